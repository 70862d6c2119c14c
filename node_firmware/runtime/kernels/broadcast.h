// Elementwise binary ops with TFLite's broadcasting (shapes right-aligned, a dim of 1 repeats),
// up to rank 6. Same shapes take a flat loop; otherwise the output is walked row-major with the
// innermost dim in a tight loop whose input steps are 0 (broadcast) or 1.
#pragma once
#include <cstdint>

#include "node_firmware/runtime/kernels/nd.h"

namespace tinyedge::runtime {

// Output shape = broadcast of a and b, rank max(rank a, rank b).
inline bool broadcast_shapes_ok(const TemTensor& a, const TemTensor& b, const TemTensor& out) {
  const int rank = a.rank > b.rank ? a.rank : b.rank;
  if (out.rank != rank) return false;
  const NdShape ea = extended(nd_shape(a), rank);
  const NdShape eb = extended(nd_shape(b), rank);
  for (int d = 0; d < rank; ++d) {
    const int32_t da = ea.dims[d], db = eb.dims[d];
    if (da != db && da != 1 && db != 1) return false;
    if (static_cast<int32_t>(out.dims[d]) != (da > db ? da : db)) return false;
  }
  return true;
}

template <class T, class Op>
void broadcast_binary(const TemTensor& ta, const T* a, const TemTensor& tb, const T* b, const TemTensor& to, T* out,
                      Op op) {
  const NdShape so = nd_shape(to);
  const int64_t n = so.elements();
  const uint32_t size = element_bytes(to.type);
  if (ta.bytes == n * size && tb.bytes == n * size) {
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], b[i]);
    return;
  }
  const int rank = so.rank > 0 ? so.rank : 1;
  const NdShape eo = extended(so, rank);
  const NdShape ea = extended(nd_shape(ta), rank);
  const NdShape eb = extended(nd_shape(tb), rank);
  int64_t sa[kMaxRank], sb[kMaxRank];
  strides_of(ea, sa);
  strides_of(eb, sb);
  for (int d = 0; d < rank; ++d) {
    if (ea.dims[d] == 1) sa[d] = 0;
    if (eb.dims[d] == 1) sb[d] = 0;
  }
  const int last = rank - 1;
  const int32_t inner = eo.dims[last];
  const int64_t step_a = sa[last], step_b = sb[last];
  int32_t index[kMaxRank] = {0, 0, 0, 0, 0, 0};
  int64_t oa = 0, ob = 0;
  for (int64_t done = 0; done < n; done += inner) {
    const T* pa = a + oa;
    const T* pb = b + ob;
    for (int32_t i = 0; i < inner; ++i) out[i] = op(pa[i * step_a], pb[i * step_b]);
    out += inner;
    for (int d = last - 1; d >= 0; --d) {
      if (++index[d] < eo.dims[d]) {
        oa += sa[d];
        ob += sb[d];
        break;
      }
      index[d] = 0;
      oa -= sa[d] * (eo.dims[d] - 1);
      ob -= sb[d] * (eo.dims[d] - 1);
    }
  }
}

}  // namespace tinyedge::runtime
