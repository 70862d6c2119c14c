// QUANTIZE (float32 -> int8/int16 at a float graph input; requantisation with TFLite's multiplier
// for input_scale / output_scale between the pairs TFLite Micro runs: int8/int16 -> int8/int16/int32,
// int32 -> int8/int16) and DEQUANTIZE
// (int8/int16 -> float32 at a float graph output). Per-tensor quantisation only.
#include "deploy/model/quantize.h"

#include "deploy/model/op_table.h"
#include "deploy/model/ops/data_op_helpers.h"
#include "node_firmware/runtime/kernels/layout_params.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

const Tensor& per_tensor(const LowerContext& c, int index) {
  const Tensor& t = c.tensor(index);
  if (t.is_constant()) c.fail("a constant here is not supported", index);
  if (t.quant.scales.size() != 1 || t.quant.zero_points.size() != 1 || !(t.quant.scales[0] > 0)) {
    c.fail("needs per-tensor quantisation", index);
  }
  return t;
}

void lower_quantize(LowerContext& c) {
  c.need_inputs(1);
  c.need_outputs(1);
  const Tensor& in = c.tensor(c.in(0));
  if (in.is_constant()) c.fail("a constant input is not supported", c.in(0));
  const Tensor& out = c.tensor(c.out());
  if (in.element_count() != out.element_count()) c.fail("input and output sizes differ", c.out());
  if (in.type == DataType::kFloat32) {
    if (!is_quantised_type(out.type))
      c.fail(std::string("float32 -> ") + type_name(out.type) + " is not supported", c.out());
    const Tensor& o = c.activation(c.out(), out.type);
    Lowered& l = c.emit(rt::Kernel::kQuantize);
    l.set_params(rt::ConvertParams{scale_of(o), zp_of(o), 0});
    return;
  }
  const bool int32_in = in.type == DataType::kInt32;
  if (!(is_quantised_type(in.type) || int32_in) ||
      !(is_quantised_type(out.type) || (out.type == DataType::kInt32 && !int32_in))) {
    c.fail(std::string(type_name(in.type)) + " -> " + type_name(out.type) + " is not supported", c.out());
  }
  const Tensor& i = int32_in ? per_tensor(c, c.in(0)) : c.activation(c.in(0), in.type);
  const Tensor& o = out.type == DataType::kInt32 ? per_tensor(c, c.out()) : c.activation(c.out(), out.type);
  int32_t m = 0;
  int shift = 0;
  quantize_multiplier(static_cast<double>(scale_of(i)) / static_cast<double>(scale_of(o)), &m, &shift);
  if (shift > 30 || shift < -31) c.fail("requantisation shift out of range");
  Lowered& l = c.emit(rt::Kernel::kQuantize);
  l.quant = {m, shift};
  l.quant_count = 1;
  l.set_params(rt::ConvertParams{scale_of(o), zp_of(o), zp_of(i)});
}

void lower_dequantize(LowerContext& c) {
  c.need_inputs(1);
  c.need_outputs(1);
  const Tensor& in = c.tensor(c.in(0));
  const Tensor& out = c.tensor(c.out());
  if (!is_quantised_type(in.type))
    c.fail(std::string(type_name(in.type)) + " input: only int8 and int16 dequantize", c.in(0));
  if (out.type != DataType::kFloat32)
    c.fail(std::string(type_name(out.type)) + " output: DEQUANTIZE makes float32", c.out());
  const Tensor& i = c.activation(c.in(0), in.type);
  if (in.element_count() != out.element_count()) c.fail("input and output sizes differ", c.out());
  Lowered& l = c.emit(rt::Kernel::kDequantize);
  l.set_params(rt::ConvertParams{scale_of(i), zp_of(i), 0});
}

}  // namespace

std::vector<OpDef> quantize_ops() {
  return {{114, "QUANTIZE", nullptr, lower_quantize, nullptr}, {6, "DEQUANTIZE", nullptr, lower_dequantize, nullptr}};
}

}  // namespace tinyedge::model
