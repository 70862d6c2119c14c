// What the interpreter hands a kernel: resolved pointers into the blob and the arena, shapes
// as NHWC, and the op record with its precomputed parameters. Validated by Model::load.
#pragma once
#include <cstdint>

#include "node_firmware/runtime/tem_format.h"

namespace tinyedge::runtime {

struct Shape4 {
  int32_t n = 1, h = 1, w = 1, c = 1;
  int32_t elements() const { return n * h * w * c; }
};

struct OpContext {
  const TemOp* op = nullptr;
  const int8_t* input = nullptr;
  Shape4 input_shape;
  const int8_t* input2 = nullptr;  // ADD
  const int8_t* filter = nullptr;
  Shape4 filter_shape;  // conv: [O,KH,KW,I]; depthwise: [1,KH,KW,O]; FC: n=units, c=depth
  const int32_t* bias = nullptr;
  int8_t* output = nullptr;
  Shape4 output_shape;
  const int32_t* multipliers = nullptr;  // quant_count entries
  const int32_t* shifts = nullptr;
  const int32_t* packed = nullptr;  // compiler-packed data (packed_bytes / 4 entries)
};

}  // namespace tinyedge::runtime

namespace tinyedge::runtime {

// Maps a rank-1..4 tensor onto NHWC: the last dim is always channels.
inline Shape4 shape_of(const TemTensor& t) {
  Shape4 s;
  switch (t.rank) {
    case 1: s.c = t.dims[0]; break;
    case 2: s.n = t.dims[0]; s.c = t.dims[1]; break;
    case 3: s.n = t.dims[0]; s.w = t.dims[1]; s.c = t.dims[2]; break;
    default: s.n = t.dims[0]; s.h = t.dims[1]; s.w = t.dims[2]; s.c = t.dims[3]; break;
  }
  return s;
}

}  // namespace tinyedge::runtime
