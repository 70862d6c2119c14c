#include "node_firmware/audio/fixed_math.h"

#include <bit>

namespace tinyedge::audio {
namespace {

constexpr int64_t kHalfPiQ30 = 1686629713;  // round(pi / 2 * 2^30)

int64_t mul_q30(int64_t a, int64_t b) { return (a * b + (int64_t{1} << 29)) >> 30; }

// cos and sin of phi (Q30 radians, 0 <= phi <= pi/4) by their Taylor series in Horner form; the
// first omitted terms are below 1e-11.
CosSinQ30 first_octant(int64_t phi) {
  const int64_t p2 = mul_q30(phi, phi);
  static constexpr int kSinDivisors[] = {110, 72, 42, 20, 6};      // (2i)(2i+1)
  static constexpr int kCosDivisors[] = {132, 90, 56, 30, 12, 2};  // (2i-1)(2i)
  int64_t s = kOneQ30;
  for (const int k : kSinDivisors) s = kOneQ30 - mul_q30(p2, s) / k;
  int64_t c = kOneQ30;
  for (const int k : kCosDivisors) c = kOneQ30 - mul_q30(p2, c) / k;
  return {static_cast<int32_t>(c), static_cast<int32_t>(mul_q30(phi, s))};
}

}  // namespace

CosSinQ30 cos_sin_q30(uint32_t num, uint32_t den) {
  num %= den;
  // Quadrant and the angle inside it as the fraction r/den of a quarter turn.
  const uint64_t quarter_turns = uint64_t{num} * 4;
  const uint32_t quadrant = static_cast<uint32_t>(quarter_turns / den);
  const uint64_t r = quarter_turns - uint64_t{quadrant} * den;
  CosSinQ30 v;
  if (r * 2 <= den) {
    v = first_octant((static_cast<int64_t>(r) * kHalfPiQ30 + den / 2) / den);
  } else {  // past the octant: cos(x) = sin(pi/2 - x)
    const CosSinQ30 w = first_octant((static_cast<int64_t>(den - r) * kHalfPiQ30 + den / 2) / den);
    v = {w.sin, w.cos};
  }
  switch (quadrant) {
    case 0:
      return v;
    case 1:
      return {-v.sin, v.cos};
    case 2:
      return {-v.cos, -v.sin};
    default:
      return {v.sin, -v.cos};
  }
}

int32_t log2_q24(uint64_t x) {
  if (x == 0) x = 1;
  const int e = 63 - __builtin_clzll(x);
  // Mantissa in [1, 2) as Q31 in 32 bits (top bits kept; what is dropped is below 2^-31
  // relative), so each squaring is one 32x32->64 multiply (UMULL on the M4).
  uint32_t m = static_cast<uint32_t>(e >= 31 ? x >> (e - 31) : x << (31 - e));
  int32_t result = e << 24;
  // Fraction bit by bit: squaring the mantissa doubles its logarithm.
  for (int bit = 23; bit >= 0; --bit) {
    const uint64_t sq = (uint64_t{m} * m + (uint64_t{1} << 30)) >> 31;  // in [2^31, 2^33)
    if (sq >= (uint64_t{1} << 32)) {
      m = static_cast<uint32_t>(sq >> 1);
      result |= int32_t{1} << bit;
    } else {
      m = static_cast<uint32_t>(sq);
    }
  }
  return result;
}

uint32_t isqrt64(uint64_t x) {
  uint64_t root = 0;
  for (uint64_t bit = uint64_t{1} << 62; bit != 0; bit >>= 2) {
    if (x >= root + bit) {
      x -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
  }
  return static_cast<uint32_t>(root);
}

OutputMultiplier output_multiplier(float scale) {
  const uint32_t bits = std::bit_cast<uint32_t>(scale);
  const uint32_t biased = (bits >> 23) & 0xFF;
  if ((bits >> 31) != 0 || biased == 0 || biased == 0xFF) return {};  // negative, zero/subnormal, inf/nan
  const int exponent = static_cast<int>(biased) - 127;
  if (exponent < -20 || exponent > 10) return {};
  const int64_t mantissa = (bits & 0x7FFFFF) | 0x800000;  // scale = mantissa * 2^(exponent - 23)
  // feature_q16 / scale = feature_q16 * (2^54 / mantissa) * 2^-(47 + exponent)
  OutputMultiplier m;
  m.valid = true;
  m.multiplier = ((int64_t{1} << 54) + mantissa / 2) / mantissa;
  m.shift = 47 + exponent;
  return m;
}

}  // namespace tinyedge::audio
