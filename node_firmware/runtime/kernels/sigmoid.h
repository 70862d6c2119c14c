// LOGISTIC and TANH int8 share TFLite's scheme: the centred input rescaled into Q4.27 (saturating
// outside +-input_range_radius), gemmlowp's fixed-point logistic / tanh, result in Q0.31 shifted
// down to the output's 8 bits. Their int16 forms (zero points 0, output scale 2^-15) share
// TFLite's sigmoid table instead: the input rescaled by an integer multiplier and right shift,
// |x|'s high bits index the table, its low bits interpolate, the sign mirrors the result.
#pragma once
#include <cstdint>

#include "node_firmware/runtime/fixed_point.h"
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

// TFLite's table of sigmoid(i / 24) in Q0.16, i = 0..255 (the int16 LOGISTIC and TANH kernels
// interpolate between its entries; tanh(x) = 2 * sigmoid(2x) - 1). The values are TFLite's own, not
// recomputed: the kernels are bit-exact only with these exact entries.
inline constexpr uint16_t kSigmoidQ16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
};

// The int16 input rescaled onto the table's scale: (x * multiplier) >> shift, rounded half up.
inline int32_t table_scaled(int32_t x, const SigmoidParams& p) {
  const int32_t round = p.input_left_shift > 0 ? int32_t{1} << (p.input_left_shift - 1) : 0;
  return (x * p.input_multiplier + round) >> p.input_left_shift;
}

// Interpolated table value at |v|, whose low `fraction_bits` bits fall between two entries, in
// units of 2^-(16 + fraction_bits); `saturated` beyond the table's end.
inline uint32_t table_at(uint32_t magnitude, int fraction_bits, uint32_t saturated) {
  const uint32_t index = magnitude >> fraction_bits;
  if (index >= 255) return saturated;
  const uint32_t low = kSigmoidQ16[index];
  const uint32_t high = kSigmoidQ16[index + 1];
  const uint32_t fraction = magnitude & ((1u << fraction_bits) - 1);
  return (low << fraction_bits) + fraction * (high - low);
}

// int16 logistic, Q0.15 out: sigmoid of |v| (9 fraction bits), 1 - that for negative v.
inline int16_t logistic_int16(int32_t x, const SigmoidParams& p) {
  const int32_t v = table_scaled(x, p);
  const uint32_t s = table_at(static_cast<uint32_t>(v < 0 ? -v : v), 9, 0x7FFFu << 10);
  const uint32_t r = v >= 0 ? s + (1u << 9) : (1u << 25) - s + (1u << 9) - 1;
  return static_cast<int16_t>(r >> 10);
}

// int16 tanh, Q0.15 out: 2 * sigmoid(|v|) - 1 (8 fraction bits), negated for negative v.
inline int16_t tanh_int16(int32_t x, const SigmoidParams& p) {
  const int32_t v = table_scaled(x, p);
  const auto s = static_cast<int32_t>(table_at(static_cast<uint32_t>(v < 0 ? -v : v), 8, 0xFFFFu << 8));
  const int32_t r = v >= 0 ? s - (1 << 23) + (1 << 7) : -s + (1 << 23) + (1 << 7) - 1;
  return static_cast<int16_t>(r >> 8);
}

}  // namespace sigmoid
}  // namespace tinyedge::runtime::kernels
