// Integer requantisation and fixed-point math with exactly TFLite's (gemmlowp's) rounding, so
// that results match TensorFlow Lite Micro bit for bit. Arithmetic that TFLite lets wrap is
// done in unsigned here, which gives the same bits without signed-overflow UB.
#pragma once
#include <cstdint>
#include <limits>

namespace tinyedge::runtime::fx {

inline int32_t wrap_add(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b)); }
inline int32_t wrap_sub(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b)); }
inline int32_t wrap_shl(int32_t a, int s) { return static_cast<int32_t>(static_cast<uint32_t>(a) << s); }

inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  const bool overflow = a == b && a == std::numeric_limits<int32_t>::min();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  const int32_t high = static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
  return overflow ? std::numeric_limits<int32_t>::max() : high;
}

// Round-half-away-from-zero division by 2^exponent, exponent in [0, 31].
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// Same bits as multiply_by_quantized_multiplier for multiplier >= 0 (the loader guarantees it, so
// SRDHM's INT32_MIN*INT32_MIN overflow case cannot occur), with one 64-bit multiply-add-shift.
// On magnitudes both roundings are floors with an offset: SRDHM = floor((|x|m + 2^30 - neg) / 2^31)
// and RoundingDivideByPOT (half away from zero) = floor((|h| + 2^(r-1)) / 2^r); since
// floor((floor(y) + k) / n) == floor((y + k) / n) for integers k, n, the two fuse into one shift.
inline int32_t requantise_fast(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  const int32_t xl = wrap_shl(x, left);
  const bool negative = xl < 0;
  // |xl| <= 2^31 fits 32 bits unsigned: the product is one 32x32->64 multiply (UMULL on the M4).
  const uint32_t magnitude = negative ? 0u - static_cast<uint32_t>(xl) : static_cast<uint32_t>(xl);
  const uint64_t offset = (uint64_t{1} << 30) + (right > 0 ? uint64_t{1} << (30 + right) : 0) - (negative ? 1 : 0);
  // The sum stays below 2^63, so after the fixed 31-bit shift it fits 32 bits (cheap on a 32-bit core).
  const auto high = static_cast<uint32_t>((static_cast<uint64_t>(magnitude) * static_cast<uint32_t>(multiplier) + offset) >> 31);
  const auto result = static_cast<int32_t>(high >> right);
  return negative ? -result : result;
}

// TFLite's MultiplyByQuantizedMultiplier (double rounding): shift > 0 is a left shift.
inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(wrap_shl(x, left), multiplier), right);
}

// TFLite's MultiplyByQuantizedMultiplier for a 64-bit accumulator (16x8 conv, depthwise, FC,
// transpose conv with int64 bias): the multiplier is first reduced to 16 bits (rounded), then one
// rounding right shift by 15 - shift. x must lie in [-2^47, 2^47), shift in [-31, 7].
inline int32_t multiply_by_quantized_multiplier_64(int64_t x, int32_t multiplier, int shift) {
  const int32_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
  const int total_shift = 15 - shift;
  const int64_t rounded = x * reduced + (int64_t{1} << (total_shift - 1));
  return static_cast<int32_t>(rounded >> total_shift);
}

inline int32_t multiply_by_quantized_multiplier_smaller_than_one_exp(int32_t x, int32_t multiplier, int left_shift) {
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -left_shift);
}

inline int32_t multiply_by_quantized_multiplier_greater_than_one(int32_t x, int32_t multiplier, int left_shift) {
  return saturating_rounding_doubling_high_mul(wrap_shl(x, left_shift), multiplier);
}

// gemmlowp SaturatingRoundingMultiplyByPOT<exponent>.
inline int32_t saturating_rounding_multiply_by_pot(int32_t x, int exponent) {
  if (exponent == 0) return x;
  if (exponent < 0) return rounding_divide_by_pot(x, -exponent);
  const int32_t threshold = static_cast<int32_t>((int64_t{1} << (31 - exponent)) - 1);
  if (x > threshold) return std::numeric_limits<int32_t>::max();
  if (x < -threshold) return std::numeric_limits<int32_t>::min();
  return wrap_shl(x, exponent);
}

// Fixed-point values are raw int32 with an implied number of integer bits (gemmlowp FixedPoint).
// Product of Q(a) and Q(b) is Q(a+b) with the same raw operation.
inline int32_t fp_mul(int32_t a, int32_t b) { return saturating_rounding_doubling_high_mul(a, b); }
// Rescale from `src_bits` integer bits to `dst_bits`.
inline int32_t fp_rescale(int32_t x, int src_bits, int dst_bits) {
  return saturating_rounding_multiply_by_pot(x, src_bits - dst_bits);
}

// exp(x) for x in [-1/4, 0), Q0 in and out.
inline int32_t exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a) {
  const int32_t constant_term = 1895147668;     // exp(-1/8)
  const int32_t constant_1_over_3 = 715827883;  // 1/3
  const int32_t x = wrap_add(a, 1 << 28);       // a + 1/8
  const int32_t x2 = fp_mul(x, x);
  const int32_t x3 = fp_mul(x2, x);
  const int32_t x4 = fp_mul(x2, x2);
  const int32_t x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2);
  const int32_t poly = saturating_rounding_multiply_by_pot(
      wrap_add(fp_mul(wrap_add(x4_over_4, x3), constant_1_over_3), x2), -1);
  return wrap_add(constant_term, fp_mul(constant_term, wrap_add(x, poly)));
}

// exp(a) for a <= 0 given with `integer_bits` integer bits; result Q0.
inline int32_t exp_on_negative_values(int32_t a, int integer_bits) {
  const int fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = int32_t{1} << (fractional_bits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_one_quarter = wrap_sub(a & mask, one_quarter);
  int32_t result = exp_on_interval_between_negative_one_quarter_and_0_excl(
      fp_rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0));
  const int32_t remainder = wrap_sub(a_mod_quarter_minus_one_quarter, a);
  struct Step { int exponent; int32_t multiplier; };
  static constexpr Step kSteps[] = {{-2, 1672461947}, {-1, 1302514674}, {0, 790015084}, {1, 290630308},
                                    {2, 39332535},    {3, 720401},      {4, 242}};
  for (const Step& s : kSteps) {
    if (integer_bits > s.exponent) {
      const int shift = fractional_bits + s.exponent;
      if (remainder & static_cast<int32_t>(uint32_t{1} << shift)) result = fp_mul(result, s.multiplier);
    }
  }
  if (integer_bits > 5) {
    const int32_t clamp = -(int32_t{1} << (36 - integer_bits));
    if (a < clamp) result = 0;
  }
  if (a == 0) result = std::numeric_limits<int32_t>::max();
  return result;
}

// 1 / (1 + x) for x in [0, 1), Q0 in and out (Newton-Raphson, as gemmlowp).
inline int32_t one_over_one_plus_x_for_x_in_0_1(int32_t a) {
  const int64_t sum = static_cast<int64_t>(a) + std::numeric_limits<int32_t>::max();
  const int32_t half_denominator = static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
  const int32_t constant_48_over_17 = 1515870810;    // Q2
  const int32_t constant_neg_32_over_17 = -1010580540;  // Q2
  int32_t x = wrap_add(constant_48_over_17, fp_mul(half_denominator, constant_neg_32_over_17));
  const int32_t one_q2 = int32_t{1} << 29;
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = fp_mul(half_denominator, x);         // Q2
    const int32_t one_minus = wrap_sub(one_q2, half_denominator_times_x);         // Q2
    x = wrap_add(x, fp_rescale(fp_mul(x, one_minus), 4, 2));                      // Q4 -> Q2
  }
  return fp_rescale(x, 1, 0);  // ExactMulByPot<-1> reinterprets Q2 as Q1
}

inline int count_leading_zeros(uint32_t x) {
  if (x == 0) return 32;
  return __builtin_clz(x);
}

// TFLite GetReciprocal: 1/x for x with `integer_digits` integer bits.
inline int32_t get_reciprocal(int32_t x, int integer_digits, int* num_bits_over_unit) {
  const int headroom_plus_one = count_leading_zeros(static_cast<uint32_t>(x));
  *num_bits_over_unit = integer_digits - headroom_plus_one;
  const int32_t shifted_sum_minus_one =
      static_cast<int32_t>((static_cast<uint32_t>(x) << headroom_plus_one) - (uint32_t{1} << 31));
  return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
}

inline int8_t clamp_int8(int32_t v, int32_t lo, int32_t hi) {
  return static_cast<int8_t>(v < lo ? lo : (v > hi ? hi : v));
}

inline int32_t clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace tinyedge::runtime::fx
