#include "node_firmware/enroll/prototype_math.h"

namespace tinyedge::enroll {

uint32_t isqrt64(uint64_t value) {
  // Bit-by-bit: exact floor, no floating point, 32 iterations.
  uint64_t root = 0;
  uint64_t bit = uint64_t{1} << 62;
  while (bit > value) bit >>= 2;
  while (bit != 0) {
    if (value >= root + bit) {
      value -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
    bit >>= 2;
  }
  return static_cast<uint32_t>(root);
}

bool normalize_q14(std::span<const int32_t> values, std::span<int16_t> out) {
  // Small vectors (an int8 embedding's norm can be ~100) would lose ~1% to the floor of an
  // integer square root: scale every vector so its largest component has 26..27 bits first
  // (the sum of 128 such squares still fits 63 bits), then divide.
  uint32_t largest = 0;
  for (int32_t v : values) {
    const uint32_t m = v < 0 ? 0u - static_cast<uint32_t>(v) : static_cast<uint32_t>(v);
    largest = m > largest ? m : largest;
  }
  if (largest == 0) return false;
  int shift = 0;
  while ((uint64_t{largest} << shift) < (uint64_t{1} << 26)) ++shift;
  int right = 0;
  while ((largest >> right) >= (uint32_t{1} << 27)) ++right;
  uint64_t sum_squares = 0;
  for (int32_t v : values) {
    const int64_t s = (int64_t{v} << shift) >> right;
    sum_squares += static_cast<uint64_t>(s * s);
  }
  const int64_t norm = isqrt64(sum_squares);
  if (norm == 0) return false;
  for (size_t i = 0; i < values.size(); ++i) {
    // |v| <= norm, so the quotient stays within Q14's +-16384; round half away from zero.
    const int64_t scaled = ((int64_t{values[i]} << shift) >> right) * kQ14One;
    const int64_t q = scaled >= 0 ? (scaled + norm / 2) / norm : (scaled - norm / 2) / norm;
    out[i] = static_cast<int16_t>(q);
  }
  return true;
}

int32_t cosine_q14(std::span<const int16_t> a, std::span<const int16_t> b) {
  int64_t dot = 0;
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) dot += int32_t{a[i]} * b[i];
  // Rounded back to Q14; rounding can push a vector's cosine with itself a hair past 1.
  const int64_t q = (dot + (int64_t{1} << 13)) >> 14;
  return static_cast<int32_t>(q > kQ14One ? kQ14One : (q < -kQ14One ? -kQ14One : q));
}

bool mean_direction_q14(std::span<const int16_t> examples, size_t count, std::span<int16_t> out) {
  const size_t dim = out.size();
  if (dim == 0 || dim > kMaxEmbeddingDim || examples.size() < count * dim) return false;
  int32_t sum[kMaxEmbeddingDim] = {};
  for (size_t e = 0; e < count; ++e)
    for (size_t i = 0; i < dim; ++i) sum[i] += examples[e * dim + i];
  return normalize_q14(std::span<const int32_t>(sum, dim), out);
}

}  // namespace tinyedge::enroll
