// Fixed-point cosine similarity on embeddings. Why cosine and not L2: an embedding model's int8
// output scale changes with every retrain (and so after every OTA update), and the trainer
// normalises embeddings to unit length; cosine is blind to both the scale and the norm, so a
// threshold means the same thing for every model and a prototype is just a unit vector. Vectors
// are kept as int16 unit vectors in Q14 (16384 = 1.0): int8 would leave a 64-dimensional unit
// vector's components (~0.125) only ~16 levels. Dot products accumulate in int64, so any
// dimension up to kMaxEmbeddingDim is exact.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace tinyedge::enroll {

inline constexpr int32_t kQ14One = 16384;
inline constexpr size_t kMaxEmbeddingDim = 128;

// Integer square root (floor) of a 64-bit value.
uint32_t isqrt64(uint64_t value);

// Scales `values` to a unit vector in Q14. False (out untouched) if the vector is all zero:
// there is no direction to keep. `out` must be as long as `values`.
[[nodiscard]] bool normalize_q14(std::span<const int32_t> values, std::span<int16_t> out);

// Cosine of two Q14 unit vectors of the same length, in Q14 (-16384..16384).
int32_t cosine_q14(std::span<const int16_t> a, std::span<const int16_t> b);

// The prototype of `count` Q14 unit vectors stored back to back in `examples`: their mean
// direction, as a Q14 unit vector. False if they cancel out.
[[nodiscard]] bool mean_direction_q14(std::span<const int16_t> examples, size_t count, std::span<int16_t> out);

}  // namespace tinyedge::enroll
