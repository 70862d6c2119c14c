// When may an op's output share arena bytes with its (dying) input? Shared by the offline
// planner, which uses it to shrink the arena, and the loader, which refuses any other overlap.
//
// Windowed kernels (conv, depthwise, pools) write output rows in raster order and output row y
// reads input rows from max(0, y*stride - pad_top) on. If the output starts `gap` bytes before
// the input, with gap >= in_place_gap(...), no write ever lands on input bytes still to be read.
// Elementwise kernels (add, softmax, reshape) may write exactly over their input (gap == 0).
#pragma once
#include <cstdint>

namespace tinyedge::runtime {

struct WindowGeometry {
  int32_t in_h, in_row_bytes;    // input height, bytes per input row (W*C)
  int32_t out_h, out_row_bytes;  // output height, bytes per output row
  int32_t stride_h, pad_top;
};

// Minimum (input_offset - output_offset) for a windowed op to run in place.
constexpr int64_t in_place_gap(const WindowGeometry& g) {
  int64_t gap = 0;
  for (int32_t y = 0; y < g.out_h; ++y) {
    int64_t first_row = static_cast<int64_t>(y) * g.stride_h - g.pad_top;
    if (first_row < 0) first_row = 0;
    if (first_row > g.in_h) first_row = g.in_h;
    const int64_t need = static_cast<int64_t>(y + 1) * g.out_row_bytes - first_row * g.in_row_bytes;
    if (need > gap) gap = need;
  }
  return gap;
}

}  // namespace tinyedge::runtime
