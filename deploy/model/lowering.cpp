#include "deploy/model/lowering.h"

#include <sstream>

namespace tinyedge::model {

int32_t dim(const Tensor& t, size_t i) { return i < t.shape.size() ? t.shape[i] : 1; }
float scale_of(const Tensor& t) { return t.quant.scales.empty() ? 0.0f : t.quant.scales[0]; }
int32_t zp_of(const Tensor& t) { return t.quant.zero_points.empty() ? 0 : t.quant.zero_points[0]; }

int32_t read_i32(const Tensor& t, size_t i) {
  uint32_t v = 0;
  for (int b = 0; b < 4; ++b) v |= uint32_t{t.data[i * 4 + b]} << (8 * b);
  return static_cast<int32_t>(v);
}

const char* type_name(DataType t) {
  switch (t) {
    case DataType::kInt8:
      return "int8";
    case DataType::kInt32:
      return "int32";
    case DataType::kInt16:
      return "int16";
    case DataType::kInt64:
      return "int64";
    case DataType::kFloat32:
      return "float32";
    case DataType::kBool:
      return "bool";
  }
  return "?";
}

void LowerContext::fail(const std::string& what, int tensor) const {
  std::ostringstream s;
  s << "op " << i_ << " (" << to_string(op().kind) << ")";
  if (tensor >= 0 && tensor < static_cast<int>(g_.tensors.size())) {
    s << ", tensor " << tensor << " '" << g_.tensors[tensor].name << "'";
  }
  s << ": " << what;
  throw CompileError(s.str());
}

void LowerContext::need_inputs(size_t n) const {
  if (op().inputs.size() != n)
    fail("expects " + std::to_string(n) + " inputs, got " + std::to_string(op().inputs.size()));
}

void LowerContext::need_outputs(size_t n) const {
  if (op().outputs.size() != n) {
    fail("expects " + std::to_string(n) + " outputs, got " + std::to_string(op().outputs.size()));
  }
}

const Tensor& LowerContext::activation(int index, DataType type) const {
  if (index < 0) fail("a required input is absent");
  const Tensor& t = g_.tensors[index];
  if (t.is_constant()) fail("expected an activation, got a constant", index);
  if (t.type != type) {
    fail(std::string(type_name(t.type)) + ": type not supported here (" + to_string(op().kind) + " takes " +
             type_name(type) + ")",
         index);
  }
  if (t.quant.scales.size() != 1 || t.quant.zero_points.size() != 1)
    fail("activation needs per-tensor quantisation", index);
  const int32_t lo = type == DataType::kInt16 ? -32768 : -128, hi = type == DataType::kInt16 ? 32767 : 127;
  if (zp_of(t) < lo || zp_of(t) > hi || !(scale_of(t) > 0)) fail("bad activation quantisation", index);
  return t;
}

const Tensor& LowerContext::constant(int index, DataType type) const {
  if (index < 0) fail("a required input is absent");
  const Tensor& t = g_.tensors[index];
  if (!t.is_constant()) fail("expected constant data", index);
  if (t.type != type) {
    fail(type == DataType::kInt8    ? "expected int8 weights"
         : type == DataType::kInt32 ? "expected int32 bias"
                                    : std::string("expected ") + type_name(type) + " constant data",
         index);
  }
  return t;
}

Lowered& LowerContext::emit(runtime::Kernel kernel) {
  Lowered l;
  l.kernel = static_cast<uint16_t>(kernel);
  l.inputs = op().inputs;
  l.outputs = op().outputs;
  emitted_.push_back(std::move(l));
  return emitted_.back();
}

}  // namespace tinyedge::model
