// Checks shared by the kernels that take BasicOpParams (conv, depthwise, FC, pools, add,
// reshape, softmax).
#pragma once
#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/dsp_blocked_filter.h"
#include "node_firmware/runtime/kernels/registration.h"

namespace tinyedge::runtime {

// Largest dot-product length a kernel accepts: keeps |sum((x+offset)*w)| < 2^30 (no int32 overflow).
inline constexpr int64_t kMaxDotLength = 32768;
// An int64 bias (16x8 ops) beyond 2^40 would push the accumulator (bias + at most kMaxDotLength
// products of int16 x int8, under 2^37) out of the [-2^47, 2^47) its 64-bit requantisation takes.
inline constexpr int64_t kMaxBias64 = int64_t{1} << 40;

// Input 0 and output 0 int8 activations, exactly `inputs` inputs and one output, params of the
// right size with offsets and clamp in int8 range; nullptr (and `status` set) otherwise.
inline const BasicOpParams* basic_int8_op(const ValidateContext& v, uint8_t inputs, Status& status) {
  status = Status::kBadOp;
  if (v.op->input_count != inputs || v.op->output_count != 1) return nullptr;
  status = Status::kBadIndex;
  if (!v.input_is_activation(0, TemType::kInt8) || v.output(0)->type != static_cast<uint8_t>(TemType::kInt8)) {
    return nullptr;
  }
  status = Status::kBadParams;
  const BasicOpParams* p = v.params<BasicOpParams>();
  if (p == nullptr) return nullptr;
  if (p->act_min < -128 || p->act_max > 127 || p->act_min > p->act_max || p->output_offset < -128 ||
      p->output_offset > 127 || p->input_offset < -127 || p->input_offset > 128) {
    return nullptr;
  }
  if (v.input(0)->rank > 4 || v.output(0)->rank > 4) {
    status = Status::kBadShape;
    return nullptr;
  }
  status = Status::kOk;
  return p;
}

// The output-stage constants of TemPacking::kBiasScales for channel oc of a quant table: the
// compiler writes them and the loader recomputes them (so the kernels can trust them).
inline void output_scale_words(int32_t multiplier, int32_t shift, uint32_t words[2]) {
  words[0] = static_cast<uint32_t>(multiplier) << 1;
  words[1] = shift > 0 ? static_cast<uint32_t>(shift) << 8 : static_cast<uint32_t>(-shift);
}

// packed_* holds the folded bias (expected_bytes), for kBiasScales* the output scales (two words per
// channel, equal to what the quant table gives) and, for conv, optionally the transposed filter.
// kBiasScalesBlockedFilter adds no bytes (the filter itself is reordered: blocked_filter_matches).
inline Status basic_packed(const ValidateContext& v, const BasicOpParams& p, uint32_t expected_bytes,
                           uint32_t transposed_bytes = 0) {
  const TemOp& o = *v.op;
  if (o.packed_bytes == 0) return p.packing == 0 ? Status::kOk : Status::kBadParams;
  const auto packing = static_cast<TemPacking>(p.packing);
  const bool blocked = packing == TemPacking::kBiasScalesBlockedFilter;
  const bool scales =
      packing == TemPacking::kBiasScales || packing == TemPacking::kBiasScalesTransposedConv || blocked;
  const bool transposed =
      packing == TemPacking::kBiasTransposedConv || packing == TemPacking::kBiasScalesTransposedConv;
  // 4 (the retired int16 weight copy) and anything past the last packing are refused.
  if (p.packing == 4 || p.packing > static_cast<uint8_t>(TemPacking::kBiasScalesBlockedFilter)) {
    return Status::kBadParams;
  }
  if (transposed && transposed_bytes == 0) return Status::kBadParams;
  const uint32_t bytes = expected_bytes * (scales ? 3 : 1) + (transposed ? transposed_bytes : 0);
  if (o.packed_bytes != bytes) return Status::kBadParams;
  if (scales) {
    const uint32_t channels = expected_bytes / 4;
    const uint8_t* table = v.blob.data() + o.quant_offset;
    const uint8_t* packed = v.blob.data() + o.packed_offset + expected_bytes;
    for (uint32_t c = 0; c < channels; ++c) {
      const uint32_t q = o.quant_count > 1 ? c : 0;
      int32_t multiplier, shift;
      __builtin_memcpy(&multiplier, table + 4 * q, 4);
      __builtin_memcpy(&shift, table + 4 * (o.quant_count + q), 4);
      uint32_t want[2], have[2];
      output_scale_words(multiplier, shift, want);
      __builtin_memcpy(have, packed + 8 * c, 8);
      if (have[0] != want[0] || have[1] != want[1]) return Status::kBadParams;
    }
  }
  return Status::kOk;
}

// An op whose filter (input 1, `rows` x `depth` int8) the compiler laid out in blocks
// (kBiasScalesBlockedFilter): the rows per block it wrote (params reserved[0]) must be the ones
// this runtime's kernel reads for that shape (`block`; 0: no blocked kernel for it), and the
// folded bias must be bias + input_offset * sum(row) for every row read through the layout, so a
// filter left in [rows][depth] order, or blocked for another shape, is refused rather than run.
inline Status blocked_filter_matches(const ValidateContext& v, const BasicOpParams& p, int32_t rows, int32_t depth,
                                     int32_t block) {
  if (p.packing != static_cast<uint8_t>(TemPacking::kBiasScalesBlockedFilter)) return Status::kOk;
  if (block == 0 || p.reserved[0] != block) return Status::kBadParams;
  const auto* w = reinterpret_cast<const int8_t*>(v.blob.data() + v.input(1)->offset);
  const uint8_t* bias = v.blob.data() + v.input(2)->offset;
  const uint8_t* folded = v.blob.data() + v.op->packed_offset;
  // The layout in file order, block by block (no division per byte: ad01's 270 KB of weights
  // cost about 8 M M4 instructions through blocked_offset, a few per byte this way).
  const int32_t whole = depth & ~3, left = depth & 3;
  for (int32_t first = 0; first < rows; first += block) {
    const int32_t n = rows - first < block ? rows - first : block;
    int32_t sums[8] = {};  // block <= 8 (conv_block, kFcBlock)
    if (n > 8) return Status::kBadParams;
    for (int32_t g = 0; g < whole; g += 4) {
      for (int32_t j = 0; j < n; ++j, w += 4) sums[j] += w[0] + w[1] + w[2] + w[3];
    }
    for (int32_t j = 0; j < n; ++j) {
      for (int32_t k = 0; k < left; ++k) sums[j] += *w++;
    }
    for (int32_t j = 0; j < n; ++j) {
      int32_t b, have;
      __builtin_memcpy(&b, bias + 4 * (first + j), 4);
      __builtin_memcpy(&have, folded + 4 * (first + j), 4);
      const uint32_t want =
          static_cast<uint32_t>(b) + static_cast<uint32_t>(p.input_offset) * static_cast<uint32_t>(sums[j]);
      if (static_cast<uint32_t>(have) != want) return Status::kBadParams;
    }
  }
  return Status::kOk;
}

}  // namespace tinyedge::runtime
