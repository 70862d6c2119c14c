// CAST between int8, int16, int32, int64, float32 and bool, element by element as C++'s
// static_cast does in TFLite: integers narrow by wrapping, floats truncate toward zero (here
// saturated where C++ leaves it undefined), anything -> bool is "!= 0". No quantisation.
#include <cstring>

#include "node_firmware/runtime/kernels/nd.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) {
  if (v.op->input_count != 1 || v.op->output_count != 1) return Status::kBadOp;
  const TemTensor* in = v.input(0);
  const TemTensor& out = *v.output(0);
  if (in == nullptr) return Status::kBadIndex;
  if (in->bytes / element_bytes(in->type) != out.bytes / element_bytes(out.type)) return Status::kBadShape;
  if (v.op->params_bytes != 0 || v.op->quant_count != 0 || v.op->packed_bytes != 0) return Status::kBadParams;
  return Status::kOk;
}

struct Value {
  bool is_float;
  int64_t i;
  double f;
};

Value load(const uint8_t* p, uint8_t type) {
  switch (static_cast<TemType>(type)) {
    case TemType::kInt8:
      return {false, static_cast<int8_t>(*p), 0};
    case TemType::kBool:
      return {false, *p != 0 ? 1 : 0, 0};
    case TemType::kInt16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return {false, v, 0};
    }
    case TemType::kInt32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return {false, v, 0};
    }
    case TemType::kInt64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return {false, v, 0};
    }
    default: {
      float v;
      std::memcpy(&v, p, 4);
      return {true, 0, v};
    }
  }
}

// Toward zero, saturated to a `bits`-bit signed integer.
int64_t truncate(double f, uint32_t bits) {
  const double bound = static_cast<double>(uint64_t{1} << (bits - 1));
  if (!(f == f)) return 0;  // NaN
  if (f >= bound) return static_cast<int64_t>((uint64_t{1} << (bits - 1)) - 1);
  if (f < -bound) return static_cast<int64_t>(0 - (uint64_t{1} << (bits - 1)));
  return static_cast<int64_t>(f);
}

void store(uint8_t* p, uint8_t type, const Value& v) {
  switch (static_cast<TemType>(type)) {
    case TemType::kBool:
      *p = (v.is_float ? v.f != 0.0 : v.i != 0) ? 1 : 0;
      break;
    case TemType::kFloat32: {
      const float f = v.is_float ? static_cast<float>(v.f) : static_cast<float>(v.i);
      std::memcpy(p, &f, 4);
      break;
    }
    default: {
      const uint32_t size = element_bytes(type);
      const int64_t i = v.is_float ? truncate(v.f, size * 8) : v.i;
      std::memcpy(p, &i, size);  // little-endian: the low bytes are the wrapped value
      break;
    }
  }
}

void cast(const OpContext& ctx) {
  const TemTensor& ti = ctx.tensors[ctx.inputs[0]];
  const TemTensor& to = ctx.tensors[ctx.outputs[0]];
  const uint32_t in_size = element_bytes(ti.type), out_size = element_bytes(to.type);
  const uint8_t* in = ctx.data(ctx.inputs[0]);
  uint8_t* out = ctx.mutable_data(ctx.outputs[0]);
  const uint32_t n = to.bytes / out_size;
  for (uint32_t k = 0; k < n; ++k) store(out + k * out_size, to.type, load(in + k * in_size, ti.type));
}

}  // namespace

extern const KernelRegistration cast_kernel{
    Kernel::kCast,
    InPlace::kNever,
    validate,
    cast,
    cast,
    TINYEDGE_KERNEL_TEXT("CAST"),
    TINYEDGE_KERNEL_TEXT("between int8, int16, int32, int64, float32 and bool, any rank; no quantisation")};

}  // namespace tinyedge::runtime::kernels
