// Int8 weight rows ([rows][depth]: FULLY_CONNECTED's units, CONV_2D's output channels over
// KH*KW*I) in the order the Cortex-M4 kernels' SMLAD loops read them (TemPacking::
// kBiasScalesBlockedFilter): the filter tensor's own bytes, reordered, so flash does not grow. Per
// block of `block` rows (a short last block has fewer), per group of four taps k..k+3, each row's
// word w[k..k+3] in turn; then each row's last depth % 4 taps. One word load per row and group then
// gives, through SXTB16 and SXTB16 ROR #8, the int16 pairs {w[k], w[k+2]} and {w[k+1], w[k+3]} that
// SMLAD takes against an input word's SXTB16 pairs, and the rows of a block sit next to each other,
// so the loop reads one run of flash with back-to-back loads (the Cortex-M4 pipelines those: one
// cycle each after the first) instead of one pointer per row. One definition for the compiler that
// writes the layout, the loader that checks it and the kernels (reference included) that read it.
#pragma once
#include <cstdint>

namespace tinyedge::runtime::dsp {

// Where filter[r][k] (the [rows][depth] order) sits in the blocked layout.
inline constexpr int32_t blocked_offset(int32_t rows, int32_t depth, int32_t block, int32_t r, int32_t k) {
  const int32_t first = r - r % block;
  const int32_t n = rows - first < block ? rows - first : block;  // rows in this block
  const int32_t j = r - first;
  const int32_t whole = depth & ~3;
  const int32_t within = k < whole ? ((k >> 2) * n + j) * 4 + (k & 3) : whole * n + j * (depth & 3) + (k - whole);
  return first * depth + within;
}

// Writes `filter` ([rows][depth]) into `out` (rows * depth bytes) in the blocked layout.
inline void block_filter(const int8_t* filter, int32_t rows, int32_t depth, int32_t block, int8_t* out) {
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t k = 0; k < depth; ++k) out[blocked_offset(rows, depth, block, r, k)] = filter[r * depth + k];
  }
}

// FULLY_CONNECTED's blocks: the four units of dsp_fully_connected.h's dot_rows.
inline constexpr int32_t kFcBlock = 4;

}  // namespace tinyedge::runtime::dsp
