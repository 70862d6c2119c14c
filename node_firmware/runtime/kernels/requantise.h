// Output-stage helpers shared by the optimised conv, depthwise and FC kernels.
#pragma once
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/op_context.h"

namespace tinyedge::runtime::optimized {

inline int8_t requantise(int32_t acc, const OpContext& ctx, int32_t oc) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const int q = ctx.quant_count > 1 ? oc : 0;
  acc = fx::requantise_fast(acc, ctx.multipliers[q], ctx.shifts[q]);
  return fx::clamp_int8(fx::wrap_add(acc, op.output_offset), op.act_min, op.act_max);
}

// A run of channels [c0, c0+n) of one pixel, with the per-op constants hoisted.
inline void requantise_run(const int32_t* acc, int32_t n, const OpContext& ctx, int32_t c0, int8_t* dst) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const int32_t lo = op.act_min, hi = op.act_max, zp = op.output_offset;
  const bool per_channel = ctx.quant_count > 1;
  const int32_t* mult = ctx.multipliers + (per_channel ? c0 : 0);
  const int32_t* shift = ctx.shifts + (per_channel ? c0 : 0);
  for (int32_t c = 0; c < n; ++c) {
    const int32_t q = per_channel ? c : 0;
    const int32_t v = fx::wrap_add(fx::requantise_fast(acc[c], mult[q], shift[q]), zp);
    dst[c] = static_cast<int8_t>(v < lo ? lo : (v > hi ? hi : v));
  }
}

}  // namespace tinyedge::runtime::optimized
