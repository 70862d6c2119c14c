// Int8 weight rows ([rows][depth]: FULLY_CONNECTED's units, CONV_2D's output channels over
// KH*KW*I) as the Cortex-M4 kernels' SMLAD loops read them (TemPacking::k*WideWeights), one
// definition for the compiler that writes them and the loader that checks them against the
// filter: per block of `block` rows (a short last block padded with zero rows), per group of four
// taps k..k+3, each row's two words {w[k], w[k+2]} and {w[k+1], w[k+3]} as int16 halves, the pairs
// SXTB16 makes of an input word. SMLAD then takes the weights straight from flash: one LDRD per
// row and group, where the int8 rows cost a load and two SXTB16. Taps past the last whole group
// (depth not a multiple of 4) stay in the filter tensor only.
#pragma once
#include <cstdint>

namespace tinyedge::runtime::dsp {

inline constexpr uint32_t wide_weight_bytes(int32_t rows, int32_t depth, int32_t block) {
  return static_cast<uint32_t>((rows + block - 1) / block * block) * static_cast<uint32_t>(depth >> 2) * 8u;
}

// The two words of row r for taps 4g..4g+3; zero past the last row.
inline void wide_words(const int8_t* filter, int32_t rows, int32_t depth, int32_t r, int32_t g, uint32_t out[2]) {
  if (r >= rows) {
    out[0] = out[1] = 0;
    return;
  }
  const int8_t* w = filter + r * depth + 4 * g;
  auto pair = [](int8_t lo, int8_t hi) {
    return static_cast<uint32_t>(static_cast<uint16_t>(lo)) | (static_cast<uint32_t>(static_cast<uint16_t>(hi)) << 16);
  };
  out[0] = pair(w[0], w[2]);
  out[1] = pair(w[1], w[3]);
}

// Calls emit(word) for every word of the layout, in file order.
template <class Emit>
void for_each_wide_word(const int8_t* filter, int32_t rows, int32_t depth, int32_t block, Emit&& emit) {
  for (int32_t first = 0; first < rows; first += block) {
    for (int32_t g = 0; g < (depth >> 2); ++g) {
      for (int32_t j = 0; j < block; ++j) {
        uint32_t words[2];
        wide_words(filter, rows, depth, first + j, g, words);
        emit(words[0]);
        emit(words[1]);
      }
    }
  }
}

// FULLY_CONNECTED's blocks: the four units of dsp_fully_connected.h's dot_rows.
inline constexpr int32_t kFcWideBlock = 4;

}  // namespace tinyedge::runtime::dsp
