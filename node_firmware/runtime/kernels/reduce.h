// Reductions over a set of axes (MEAN, SUM, REDUCE_MAX), rank <= 6, keep_dims or not. Each
// output element walks its reduced positions directly (no scratch accumulators in the arena).
#pragma once
#include <cstdint>

#include "node_firmware/runtime/kernels/nd.h"

namespace tinyedge::runtime {

struct ReduceParams {
  uint8_t reduced[kMaxRank];  // 1: the input dim is reduced (0 beyond rank)
  uint8_t reserved[2];
  int32_t input_zero_point;   // MEAN/SUM
  int32_t output_zero_point;  // MEAN/SUM
};
static_assert(sizeof(ReduceParams) == 16);

// The output holds the kept dims in order, with or without a 1 for each reduced dim.
inline Status validate_reduce(const ValidateContext& v, const ReduceParams*& params) {
  if (v.op->input_count != 1 || v.op->output_count != 1) return Status::kBadOp;
  const TemTensor* in = v.input(0);
  const TemTensor& out = *v.output(0);
  if (in == nullptr || !is_int8_or_int16(*in) || !same_type(*in, out) || (in->flags & kTensorConstant)) {
    return Status::kBadIndex;
  }
  params = v.params<ReduceParams>();
  if (params == nullptr || v.op->packed_bytes != 0) return Status::kBadParams;
  uint32_t kept[kMaxRank];
  int kept_count = 0;
  for (int d = 0; d < kMaxRank; ++d) {
    if (params->reduced[d] > 1 || (d >= in->rank && params->reduced[d] != 0)) return Status::kBadParams;
    if (d < in->rank && params->reduced[d] == 0) kept[kept_count++] = in->dims[d];
  }
  bool keep_dims = out.rank == in->rank;
  for (int d = 0; keep_dims && d < in->rank; ++d) {
    keep_dims = out.dims[d] == (params->reduced[d] ? 1u : in->dims[d]);
  }
  bool dropped = out.rank == kept_count;
  for (int d = 0; dropped && d < kept_count; ++d) dropped = out.dims[d] == kept[d];
  return keep_dims || dropped ? Status::kOk : Status::kBadShape;
}

// Calls start() then add(value) for every reduced position of each output element, then stores
// finish() as that element. Input dims are split into kept and reduced odometers.
template <class T, class Start, class Add, class Finish>
void reduce_each(const OpContext& ctx, Start start, Add add, Finish finish) {
  const ReduceParams& p = ctx.params_as<ReduceParams>();
  const TemTensor& ti = ctx.tensors[ctx.inputs[0]];
  const NdShape si = nd_shape(ti);
  int64_t strides[kMaxRank];
  strides_of(si, strides);
  int32_t kept_dims[kMaxRank], red_dims[kMaxRank];
  int64_t kept_strides[kMaxRank], red_strides[kMaxRank];
  int kept = 0, red = 0;
  int64_t outputs = 1, per_output = 1;
  for (int d = 0; d < si.rank; ++d) {
    if (p.reduced[d]) {
      red_dims[red] = si.dims[d];
      red_strides[red++] = strides[d];
      per_output *= si.dims[d];
    } else {
      kept_dims[kept] = si.dims[d];
      kept_strides[kept++] = strides[d];
      outputs *= si.dims[d];
    }
  }
  const auto* in = reinterpret_cast<const T*>(ctx.input);
  auto* out = reinterpret_cast<T*>(ctx.output);
  int32_t kept_index[kMaxRank] = {0, 0, 0, 0, 0, 0};
  int64_t base = 0;
  for (int64_t o = 0; o < outputs; ++o) {
    auto acc = start();
    int32_t red_index[kMaxRank] = {0, 0, 0, 0, 0, 0};
    int64_t offset = base;
    for (int64_t r = 0; r < per_output; ++r) {
      acc = add(acc, in[offset]);
      for (int d = red - 1; d >= 0; --d) {
        if (++red_index[d] < red_dims[d]) {
          offset += red_strides[d];
          break;
        }
        red_index[d] = 0;
        offset -= red_strides[d] * (red_dims[d] - 1);
      }
    }
    out[o] = finish(acc, per_output);
    for (int d = kept - 1; d >= 0; --d) {
      if (++kept_index[d] < kept_dims[d]) {
        base += kept_strides[d];
        break;
      }
      kept_index[d] = 0;
      base -= kept_strides[d] * (kept_dims[d] - 1);
    }
  }
}

}  // namespace tinyedge::runtime
