// Shape checks shared by CONCATENATION/PACK and SPLIT/SPLIT_V/UNPACK: the `whole` tensor is
// the parts laid side by side along `axis`. Both ops then copy, for each of the `outer` leading
// positions (dims before axis), one contiguous chunk per part.
#pragma once
#include "node_firmware/runtime/kernels/layout_params.h"
#include "node_firmware/runtime/kernels/nd.h"

namespace tinyedge::runtime {

// parts[k] (count of them) against whole; packed: each part lacks the axis dim (PACK/UNPACK).
inline Status validate_join(const TemTensor& whole, const TemTensor* const* parts, int count, const JoinParams& p) {
  if (p.packed != 0 && p.packed != 1) return Status::kBadParams;
  if (p.axis < 0 || p.axis >= whole.rank) return Status::kBadParams;
  const auto axis = static_cast<uint32_t>(p.axis);
  uint64_t along = 0;
  for (int k = 0; k < count; ++k) {
    const TemTensor& t = *parts[k];
    if (!same_type(t, whole)) return Status::kBadIndex;
    if (is_int8_or_int16(whole) && t.zero_point != whole.zero_point) return Status::kBadQuantization;
    if (p.packed) {
      if (t.rank + 1 != whole.rank) return Status::kBadShape;
      for (uint32_t d = 0; d < t.rank; ++d) {
        if (t.dims[d] != whole.dims[d < axis ? d : d + 1]) return Status::kBadShape;
      }
      along += 1;
    } else {
      if (t.rank != whole.rank) return Status::kBadShape;
      for (uint32_t d = 0; d < t.rank; ++d) {
        if (d != axis && t.dims[d] != whole.dims[d]) return Status::kBadShape;
      }
      along += t.dims[axis];
    }
  }
  return along == whole.dims[axis] ? Status::kOk : Status::kBadShape;
}

// Number of leading positions (product of the dims before axis).
inline uint32_t join_outer(const TemTensor& whole, int32_t axis) {
  uint32_t outer = 1;
  for (int32_t d = 0; d < axis; ++d) outer *= whole.dims[d];
  return outer;
}

}  // namespace tinyedge::runtime
