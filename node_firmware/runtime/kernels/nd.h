// Rank-0..6 shapes for the kernels that move or combine whole tensors (broadcasting arithmetic,
// PAD, TRANSPOSE, slicing, reductions): dims straight from the tensor record, row-major strides,
// and the element-type dispatch they share.
#pragma once
#include <cstdint>

#include "node_firmware/runtime/kernels/registration.h"

namespace tinyedge::runtime {

struct NdShape {
  int rank = 0;
  int32_t dims[kMaxRank] = {1, 1, 1, 1, 1, 1};
  int64_t elements() const {
    int64_t n = 1;
    for (int d = 0; d < rank; ++d) n *= dims[d];
    return n;
  }
};

// The loader has checked every dim >= 1 and the element count < 2^24.
inline NdShape nd_shape(const TemTensor& t) {
  NdShape s;
  s.rank = t.rank;
  for (int d = 0; d < t.rank; ++d) s.dims[d] = static_cast<int32_t>(t.dims[d]);
  return s;
}

// `s` right-aligned into `rank` dims (leading 1s), as TFLite's broadcasting reads shapes.
inline NdShape extended(const NdShape& s, int rank) {
  NdShape e;
  e.rank = rank;
  const int pad = rank - s.rank;
  for (int d = 0; d < rank; ++d) e.dims[d] = d < pad ? 1 : s.dims[d - pad];
  return e;
}

inline void strides_of(const NdShape& s, int64_t* strides) {
  int64_t stride = 1;
  for (int d = s.rank - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= s.dims[d];
  }
}

inline bool same_type(const TemTensor& a, const TemTensor& b) { return a.type == b.type; }
inline bool is_type(const TemTensor& t, TemType type) { return t.type == static_cast<uint8_t>(type); }
inline bool is_int8_or_int16(const TemTensor& t) { return is_type(t, TemType::kInt8) || is_type(t, TemType::kInt16); }

// Smallest and largest value of a quantised activation type (int8 or int16).
inline int32_t type_min(const TemTensor& t) { return is_type(t, TemType::kInt16) ? -32768 : -128; }
inline int32_t type_max(const TemTensor& t) { return is_type(t, TemType::kInt16) ? 32767 : 127; }

// In-place elementwise kernels (InPlace::kSameOffset) may write over an input of the output's own
// size only: a broadcast (smaller) input is read again after the output passes it.
inline bool broadcast_input_apart(const TemTensor& in, const TemTensor& out) {
  if ((in.flags & kTensorConstant) || in.bytes == out.bytes) return true;
  return in.offset >= out.offset + out.bytes || out.offset >= in.offset + in.bytes;
}

}  // namespace tinyedge::runtime
