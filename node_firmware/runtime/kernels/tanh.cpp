// TANH, int8 (TFLite's reference_integer_ops::Tanh): output scale 1/128, zero point 0.
#include "node_firmware/runtime/kernels/sigmoid.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) { return validate_sigmoid(v, 0); }

void tanh_int8(const OpContext& ctx) {
  const SigmoidParams& p = ctx.params_as<SigmoidParams>();
  map_elements<int8_t>(ctx, [&](int32_t x) -> int32_t {
    const int32_t centred = x - p.input_zero_point;
    if (centred <= -p.input_range_radius) return -128;
    if (centred >= p.input_range_radius) return 127;
    const int32_t q4 = fx::multiply_by_quantized_multiplier(centred, p.input_multiplier, p.input_left_shift);
    return fx::clamp(fx::rounding_divide_by_pot(sigmoid::tanh_q4(q4), 31 - 7), -128, 127);
  });
}

}  // namespace

extern const KernelRegistration tanh_kernel{
    Kernel::kTanh,
    InPlace::kSameOffset,
    validate,
    tanh_int8,
    tanh_int8,
    TINYEDGE_KERNEL_TEXT("TANH"),
    TINYEDGE_KERNEL_TEXT("int8 input, int8 output of the same element count with scale 1/128 and zero point 0, "
                         "any rank")};

}  // namespace tinyedge::runtime::kernels
