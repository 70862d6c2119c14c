// SOFTMAX, int8 in, int8 out with scale 1/256 and zero point -128 (TFLite reference
// semantics, fixed-point exp and reciprocal from fixed_point.h).
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/basic_validate.h"

namespace tinyedge::runtime::kernels {
namespace {

constexpr int32_t kMaxSoftmaxDepth = 256;

Status validate(const ValidateContext& v) {
  Status status;
  const BasicOpParams* p = basic_int8_op(v, 1, status);
  if (p == nullptr) return status;
  const Shape4 in = shape_of(*v.input(0));
  const Shape4 out = shape_of(*v.output(0));
  if (v.input(0)->bytes != v.output(0)->bytes || in.c != out.c || in.c > kMaxSoftmaxDepth) return Status::kBadShape;
  if (p->extra[0] < 0 || p->extra[1] < 0 || p->extra[1] > 30 || p->extra[2] > 0) return Status::kBadQuantization;
  return v.op->packed_bytes == 0 && v.op->quant_count == 0 ? Status::kOk : Status::kBadParams;
}

void softmax(const OpContext& ctx) {
  constexpr int kScaledDiffIntegerBits = 5;
  constexpr int kAccumulationIntegerBits = 12;
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const int32_t beta_multiplier = op.extra[0];
  const int32_t beta_left_shift = op.extra[1];
  const int32_t diff_min = op.extra[2];
  const int32_t depth = ctx.input_shape.c;
  const int32_t rows = ctx.input_shape.elements() / depth;
  for (int32_t r = 0; r < rows; ++r) {
    const int8_t* in = ctx.input + r * depth;
    int8_t* out = ctx.output + r * depth;
    int32_t max_in_row = -128;
    for (int32_t c = 0; c < depth; ++c) max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
    int32_t sum_of_exps = 0;  // Q12
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t diff = in[c] - max_in_row;
      if (diff >= diff_min) {
        const int32_t rescaled =
            fx::multiply_by_quantized_multiplier_greater_than_one(diff, beta_multiplier, beta_left_shift);
        const int32_t e = fx::exp_on_negative_values(rescaled, kScaledDiffIntegerBits);
        sum_of_exps = fx::wrap_add(sum_of_exps, fx::fp_rescale(e, 0, kAccumulationIntegerBits));
      }
    }
    int num_bits_over_unit = 0;
    const int32_t shifted_scale = fx::get_reciprocal(sum_of_exps, kAccumulationIntegerBits, &num_bits_over_unit);
    // In-place safe: out[c] is written only after in[c] was read for the last time.
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t diff = in[c] - max_in_row;
      if (diff >= diff_min) {
        const int32_t rescaled =
            fx::multiply_by_quantized_multiplier_greater_than_one(diff, beta_multiplier, beta_left_shift);
        const int32_t e = fx::exp_on_negative_values(rescaled, kScaledDiffIntegerBits);
        const int32_t unsat = fx::rounding_divide_by_pot(fx::fp_mul(shifted_scale, e), num_bits_over_unit + 31 - 8);
        out[c] = fx::clamp_int8(unsat - 128, -128, 127);
      } else {
        out[c] = -128;
      }
    }
  }
}

}  // namespace

extern const KernelRegistration softmax_kernel{
    Kernel::kSoftmax,
    InPlace::kSameOffset,
    validate,
    softmax,
    softmax,
    TINYEDGE_KERNEL_TEXT("SOFTMAX"),
    TINYEDGE_KERNEL_TEXT("int8 input, int8 output of the same shape with scale 1/256 and zero point -128; over the "
                         "last dimension, at most 256 classes; any beta")};

}  // namespace tinyedge::runtime::kernels
