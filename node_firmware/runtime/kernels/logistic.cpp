// LOGISTIC (TFLite's reference_integer_ops::Logistic): int8 with output scale 1/256 and zero point
// -128; int16 with zero points 0 and output scale 2^-15 (TFLite's sigmoid table, see sigmoid.h).
#include "node_firmware/runtime/kernels/sigmoid.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) { return validate_sigmoid(v, -128); }

void logistic(const OpContext& ctx) {
  const SigmoidParams& p = ctx.params_as<SigmoidParams>();
  if (is_int16(ctx, ctx.inputs[0])) {
    map_elements<int16_t>(ctx, [&](int32_t x) -> int32_t { return sigmoid::logistic_int16(x, p); });
    return;
  }
  map_elements<int8_t>(ctx, [&](int32_t x) -> int32_t {
    const int32_t centred = x - p.input_zero_point;
    if (centred <= -p.input_range_radius) return -128;
    if (centred >= p.input_range_radius) return 127;
    const int32_t q4 = fx::multiply_by_quantized_multiplier(centred, p.input_multiplier, p.input_left_shift);
    const int32_t q23 = fx::rounding_divide_by_pot(sigmoid::logistic_q4(q4), 31 - 8);
    return fx::clamp(q23 - 128, -128, 127);
  });
}

}  // namespace

extern const KernelRegistration logistic_kernel{
    Kernel::kLogistic,
    InPlace::kSameOffset,
    validate,
    logistic,
    logistic,
    TINYEDGE_KERNEL_TEXT("LOGISTIC"),
    TINYEDGE_KERNEL_TEXT("int8 input, int8 output of the same element count with scale 1/256 and zero point -128, "
                         "any rank; or int16 input and output with zero points 0, output scale 2^-15")};

}  // namespace tinyedge::runtime::kernels
