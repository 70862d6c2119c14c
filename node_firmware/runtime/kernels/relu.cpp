// RELU, int8 and int16 (TFLite Micro's ReluQuantized): rescale from the input's quantisation to the
// output's, then clamp at the output's zero (real 0) and the type's top.
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/unary.h"

namespace tinyedge::runtime::kernels {
namespace {

struct ReluParams {
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t act_min;  // max(type min, output zero point)
  int32_t act_max;  // type max
};
static_assert(sizeof(ReluParams) == 16);

Status validate(const ValidateContext& v) {
  if (Status s = unary_same_type(v, true); s != Status::kOk) return s;
  const ReluParams* p = v.params<ReluParams>();
  if (p == nullptr) return Status::kBadParams;
  const uint8_t type = v.input(0)->type;
  const int32_t lo = type_min(type), hi = type_max(type);
  if (p->input_zero_point < lo || p->input_zero_point > hi || p->output_zero_point < lo || p->output_zero_point > hi ||
      p->act_min < lo || p->act_max > hi || p->act_min > p->act_max) {
    return Status::kBadParams;
  }
  if (v.op->packed_bytes != 0) return Status::kBadParams;
  return v.quant_table(1, 1, false);
}

template <class T>
void relu_typed(const OpContext& ctx) {
  const ReluParams& p = ctx.params_as<ReluParams>();
  const int32_t multiplier = ctx.multipliers[0];
  const int shift = ctx.shifts[0];
  map_elements<T>(ctx, [&](int32_t x) {
    const int32_t y = fx::wrap_add(p.output_zero_point,
                                   fx::multiply_by_quantized_multiplier(x - p.input_zero_point, multiplier, shift));
    return fx::clamp(y, p.act_min, p.act_max);
  });
}

void relu(const OpContext& ctx) { is_int16(ctx, ctx.inputs[0]) ? relu_typed<int16_t>(ctx) : relu_typed<int8_t>(ctx); }

}  // namespace

extern const KernelRegistration relu_kernel{
    Kernel::kRelu,
    InPlace::kSameOffset,
    validate,
    relu,
    relu,
    TINYEDGE_KERNEL_TEXT("RELU"),
    TINYEDGE_KERNEL_TEXT("int8 or int16 input and output of the same type and element count, any rank; own "
                         "output quantisation; int16 with zero points 0")};

}  // namespace tinyedge::runtime::kernels
