// The M4 kernels' output stage: fx::requantise_fast's bits (TFLite's double rounding) with the
// per-channel constants worked out once per channel and reused for every pixel of a block.
#pragma once
#include <cstdint>

#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/dsp.h"
#include "node_firmware/runtime/kernels/op_context.h"
#include "node_firmware/runtime/tem_format.h"

namespace tinyedge::runtime::dsp {

// requantise_fast computes floor((|x << left| * m + 2^30 + [right > 0] 2^(30+right) - neg) / 2^(31+right))
// and restores the sign. Doubling multiplier and offset makes the divisor 2^(32+right): the high
// word of one UMLAL, shifted right. |x << left| <= 2^31 and 2m < 2^32, so the sum stays below 2^64.
struct ChannelScale {
  uint32_t multiplier2;  // 2m
  uint32_t offset_high;  // high word of 2 * 2^(30+right) (the low word of the offset is 2^31 - 2 neg)
  uint32_t left;
  uint32_t right;
};

// The constants of one (multiplier >= 0, shift) pair.
TINYEDGE_DSP_INLINE ChannelScale make_scale(int32_t multiplier, int32_t shift) {
  ChannelScale s;
  s.multiplier2 = static_cast<uint32_t>(multiplier) << 1;
  s.left = shift > 0 ? static_cast<uint32_t>(shift) : 0u;
  s.right = shift > 0 ? 0u : static_cast<uint32_t>(-shift);
  s.offset_high = s.right > 0 ? 1u << (s.right - 1) : 0u;
  return s;
}

TINYEDGE_DSP_INLINE ChannelScale channel_scale(const OpContext& ctx, int32_t oc) {
  const int q = ctx.quant_count > 1 ? oc : 0;
  return make_scale(ctx.multipliers[q], ctx.shifts[q]);
}

// The compiler's packed constants (TemPacking::kBiasScales*: {2m, right | left << 8} per channel,
// checked against the quant table at load), or nullptr for older packings.
inline const uint32_t* packed_scales(const OpContext& ctx) {
  const auto packing = static_cast<TemPacking>(ctx.params_as<BasicOpParams>().packing);
  if (packing != TemPacking::kBiasScales && packing != TemPacking::kBiasScalesTransposedConv &&
      packing != TemPacking::kBiasScalesBlockedFilter) {
    return nullptr;
  }
  return reinterpret_cast<const uint32_t*>(ctx.packed + ctx.output_shape.c);
}

// One channel's constants from its two packed words ({2m, right | left << 8}).
TINYEDGE_DSP_INLINE ChannelScale packed_channel_scale(const uint32_t* words) {
  ChannelScale s;
  s.multiplier2 = words[0];
  const uint32_t shifts = words[1];
  s.right = shifts & 0xFF;
  s.left = shifts >> 8;
  s.offset_high = (1u << s.right) >> 1;
  return s;
}

// Channel oc's constants: two loads from packed scales, else worked out from the quant table.
TINYEDGE_DSP_INLINE ChannelScale channel_scale(const OpContext& ctx, const uint32_t* scales, int32_t oc) {
  return scales == nullptr ? channel_scale(ctx, oc) : packed_channel_scale(scales + 2 * oc);
}

TINYEDGE_DSP_INLINE int32_t scale(const ChannelScale& s, int32_t acc) {
  const uint32_t x = static_cast<uint32_t>(acc) << s.left;
  const uint32_t neg = static_cast<uint32_t>(static_cast<int32_t>(x) >> 31);  // 0 or all ones
  const uint32_t magnitude = (x ^ neg) - neg;
  const uint64_t offset = (static_cast<uint64_t>(s.offset_high) << 32) | (0x80000000u + 2 * neg);
  const uint32_t high = static_cast<uint32_t>((static_cast<uint64_t>(magnitude) * s.multiplier2 + offset) >> 32);
  const uint32_t result = high >> s.right;
  return static_cast<int32_t>((result ^ neg) - neg);
}

struct OutputRange {
  int32_t zero_point, lo, hi;
};

TINYEDGE_DSP_INLINE OutputRange output_range(const OpContext& ctx) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  return {op.output_offset, op.act_min, op.act_max};
}

TINYEDGE_DSP_INLINE int8_t to_output(const OutputRange& r, int32_t scaled) {
  const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(scaled) + static_cast<uint32_t>(r.zero_point));
  return static_cast<int8_t>(v < r.lo ? r.lo : (v > r.hi ? r.hi : v));
}

}  // namespace tinyedge::runtime::dsp
