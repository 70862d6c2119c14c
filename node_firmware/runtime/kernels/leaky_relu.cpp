// LEAKY_RELU, int8 and int16 (TFLite Micro's QuantizeLeakyRelu): inputs at or above the zero point
// are rescaled by input_scale / output_scale, those below by alpha * input_scale / output_scale;
// a negative alpha is carried as a sign flag (the quant table holds magnitudes).
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/unary.h"

namespace tinyedge::runtime::kernels {
namespace {

// Quant table: [0] identity (input/output scale), [1] |alpha| * input/output scale.
struct LeakyReluParams {
  int32_t input_zero_point;
  int32_t output_zero_point;
  uint8_t alpha_negative;  // 0 or 1
  uint8_t reserved[3];
};
static_assert(sizeof(LeakyReluParams) == 12);

Status validate(const ValidateContext& v) {
  if (Status s = unary_same_type(v); s != Status::kOk) return s;
  const LeakyReluParams* p = v.params<LeakyReluParams>();
  if (p == nullptr) return Status::kBadParams;
  const uint8_t type = v.input(0)->type;
  const int32_t lo = type_min(type), hi = type_max(type);
  if (p->input_zero_point < lo || p->input_zero_point > hi || p->output_zero_point < lo || p->output_zero_point > hi ||
      p->alpha_negative > 1) {
    return Status::kBadParams;
  }
  if (v.op->packed_bytes != 0) return Status::kBadParams;
  return v.quant_table(2, 2, false);
}

template <class T>
void leaky_relu_typed(const OpContext& ctx) {
  const LeakyReluParams& p = ctx.params_as<LeakyReluParams>();
  const int32_t lo = type_min(ctx.tensors[ctx.outputs[0]].type), hi = type_max(ctx.tensors[ctx.outputs[0]].type);
  map_elements<T>(ctx, [&](int32_t x) {
    const int32_t centred = x - p.input_zero_point;
    int32_t y;
    if (centred >= 0) {
      y = fx::multiply_by_quantized_multiplier(centred, ctx.multipliers[0], ctx.shifts[0]);
    } else {
      y = fx::multiply_by_quantized_multiplier(centred, ctx.multipliers[1], ctx.shifts[1]);
      if (p.alpha_negative) y = -y;
    }
    return fx::clamp(fx::wrap_add(p.output_zero_point, y), lo, hi);
  });
}

void leaky_relu(const OpContext& ctx) {
  is_int16(ctx, ctx.inputs[0]) ? leaky_relu_typed<int16_t>(ctx) : leaky_relu_typed<int8_t>(ctx);
}

}  // namespace

extern const KernelRegistration leaky_relu_kernel{
    Kernel::kLeakyRelu,
    InPlace::kSameOffset,
    validate,
    leaky_relu,
    leaky_relu,
    TINYEDGE_KERNEL_TEXT("LEAKY_RELU"),
    TINYEDGE_KERNEL_TEXT("int8 or int16 input and output of the same type and element count, any rank; any alpha "
                         "(negative too); own output quantisation")};

}  // namespace tinyedge::runtime::kernels
