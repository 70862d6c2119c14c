// LOGISTIC and TANH int8 share TFLite's scheme: the centred input rescaled into Q4.27 (saturating
// outside +-input_range_radius), gemmlowp's fixed-point logistic / tanh, result in Q0.31 shifted
// down to the output's 8 bits. Their int16 forms (zero points 0, output scale 2^-15) share
// TFLite's sigmoid table instead: the input rescaled by an integer multiplier and right shift,
// |x|'s high bits index the table, its low bits interpolate, the sign mirrors the result.
#pragma once
#include <cstdint>

#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/lut16.h"
#include "node_firmware/runtime/kernels/unary.h"

namespace tinyedge::runtime::kernels {

// int8: the fields as named. int16: zero point and radius 0, input_multiplier in [1, 32767] and
// input_left_shift in [0, 30] (the input onto the table's scale: (x * multiplier) >> shift, rounded).
struct SigmoidParams {
  int32_t input_zero_point;
  int32_t input_range_radius;  // |centred input| at or beyond which the output saturates
  int32_t input_multiplier;    // input_scale * 2^27, as frexp mantissa (Q31) ...
  int32_t input_left_shift;    // ... and exponent
};
static_assert(sizeof(SigmoidParams) == 16);

// Int8 in and out with the output zero point TFLite requires, or int16 with zero points 0; params
// in range.
inline Status validate_sigmoid(const ValidateContext& v, int32_t output_zero_point) {
  if (Status s = unary_same_type(v, /*int16_zero_points=*/true); s != Status::kOk) return s;
  const SigmoidParams* p = v.params<SigmoidParams>();
  if (v.input_is_activation(0, TemType::kInt16)) {
    if (p == nullptr || p->input_zero_point != 0 || p->input_range_radius != 0 || p->input_multiplier < 1 ||
        p->input_multiplier > 32767 || p->input_left_shift < 0 || p->input_left_shift > 30) {
      return Status::kBadParams;
    }
    return v.op->packed_bytes == 0 && v.op->quant_count == 0 ? Status::kOk : Status::kBadParams;
  }
  if (v.output(0)->zero_point != output_zero_point) return Status::kBadQuantization;
  if (p == nullptr || p->input_zero_point < -128 || p->input_zero_point > 127 || p->input_range_radius < 0 ||
      p->input_multiplier < 0 || p->input_left_shift < -31 || p->input_left_shift > 30) {
    return Status::kBadParams;
  }
  return v.op->packed_bytes == 0 && v.op->quant_count == 0 ? Status::kOk : Status::kBadParams;
}

namespace sigmoid {

constexpr int32_t kOneQ0 = 0x7FFFFFFF;  // gemmlowp's One() with 0 integer bits (saturated)

// gemmlowp logistic(Q4 a), Q0 result: 1 / (1 + exp(-|a|)), mirrored for a < 0, exactly 1/2 at 0.
inline int32_t logistic_q4(int32_t a) {
  if (a == 0) return 1 << 30;
  const int32_t magnitude = a > 0 ? a : -a;
  const int32_t positive = fx::one_over_one_plus_x_for_x_in_0_1(fx::exp_on_negative_values(-magnitude, 4));
  return a > 0 ? positive : kOneQ0 - positive;
}

// gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1: (1 - x) / (1 + x), Newton-Raphson in Q2.
inline int32_t one_minus_x_over_one_plus_x(int32_t a) {
  const int64_t sum = static_cast<int64_t>(a) + kOneQ0;
  const int32_t half_denominator = static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
  const int32_t one_q2 = int32_t{1} << 29;
  int32_t x = fx::wrap_add(1515870810, fx::fp_mul(half_denominator, -1010580540));  // 48/17 - 32/17 * d
  for (int i = 0; i < 3; ++i) {
    const int32_t one_minus = fx::wrap_sub(one_q2, fx::fp_mul(half_denominator, x));
    x = fx::wrap_add(x, fx::fp_rescale(fx::fp_mul(x, one_minus), 4, 2));
  }
  return fx::fp_rescale(fx::wrap_sub(x, one_q2), 2, 0);
}

// gemmlowp tanh(Q4 a), Q0 result: -tanh(-|a|) from exp(-2|a|), sign restored, exactly 0 at 0.
inline int32_t tanh_q4(int32_t a) {
  if (a == 0) return 0;
  const int32_t negative = a < 0 ? a : -a;
  // ExactMulByPot<1>: the same raw value read with one more integer bit.
  const int32_t t = one_minus_x_over_one_plus_x(fx::exp_on_negative_values(negative, 5));
  return a < 0 ? -t : t;
}

// int16 logistic and tanh, Q0.15 out: the input onto the table's scale, then the table the LSTM
// gates share (lut16.h).
inline int16_t logistic_int16(int32_t x, const SigmoidParams& p) {
  return lut16::logistic_scaled(lut16::rescale(static_cast<int16_t>(x), p.input_multiplier, p.input_left_shift));
}
inline int16_t tanh_int16(int32_t x, const SigmoidParams& p) {
  return lut16::tanh_scaled(lut16::rescale(static_cast<int16_t>(x), p.input_multiplier, p.input_left_shift));
}

}  // namespace sigmoid
}  // namespace tinyedge::runtime::kernels
