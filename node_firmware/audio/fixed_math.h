// Integer-only maths for the audio front-end: cosine/sine, log2, square root and the output
// requantisation. Tables are computed from these at configure time, so neither the node nor the
// trainer ever needs floating point, and both get the same bits on every machine.
#pragma once
#include <cstdint>

namespace tinyedge::audio {

inline constexpr int32_t kOneQ30 = int32_t{1} << 30;

struct CosSinQ30 {
  int32_t cos;  // cos(2*pi*num/den) in Q30
  int32_t sin;  // sin(2*pi*num/den) in Q30
};
// Requires 0 < den <= 2^28. Accurate to a few units of Q30 (a Taylor series on the first octant).
CosSinQ30 cos_sin_q30(uint32_t num, uint32_t den);

// log2(x) in Q24 for x >= 1 (x == 0 is treated as 1). Within 2^-22 of the exact value.
int32_t log2_q24(uint64_t x);

// floor(sqrt(x)).
uint32_t isqrt64(uint64_t x);

// feature_q16 -> round(feature / scale) as (feature_q16 * multiplier) >> shift, rounding half up.
struct OutputMultiplier {
  bool valid = false;
  int64_t multiplier = 0;
  int shift = 0;
};
// Decodes the IEEE-754 bits of `scale` with integer operations (no FPU, no soft-float).
OutputMultiplier output_multiplier(float scale);

inline int8_t quantise_feature(int32_t feature_q16, const OutputMultiplier& m, int32_t zero_point) {
  const int64_t scaled = (int64_t{feature_q16} * m.multiplier + (int64_t{1} << (m.shift - 1))) >> m.shift;
  const int64_t q = scaled + zero_point;
  return static_cast<int8_t>(q < -128 ? -128 : (q > 127 ? 127 : q));
}

}  // namespace tinyedge::audio
