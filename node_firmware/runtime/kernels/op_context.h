// What the interpreter hands a kernel: resolved pointers into the blob and the arena, shapes
// as NHWC, and the op record with its params blob. Validated by Model::load (the generic checks
// there, then the kernel's own validate()).
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
  const void* params = nullptr;  // op->params_bytes bytes, 4-aligned, size checked by validate()
  // Every operand, for kernels with more than the usual ones (LSTM, SPLIT, CONCATENATION...).
  const TemTensor* tensors = nullptr;
  const uint16_t* inputs = nullptr;  // op->input_count indices (kNoTensor: absent)
  const uint16_t* outputs = nullptr;
  const uint8_t* blob = nullptr;
  uint8_t* arena = nullptr;
  // The usual operands, resolved: input 0, input 1 (second activation or filter), input 2 (bias).
  const int8_t* input = nullptr;
  Shape4 input_shape;
  const int8_t* input2 = nullptr;  // ADD
  const int8_t* filter = nullptr;
  Shape4 filter_shape;  // conv: [O,KH,KW,I]; depthwise: [1,KH,KW,O]; FC: n=units, c=depth
  const int32_t* bias = nullptr;
  int8_t* output = nullptr;  // output 0
  Shape4 output_shape;
  uint32_t quant_count = 0;
  const int32_t* multipliers = nullptr;  // quant_count entries
  const int32_t* shifts = nullptr;
  const int32_t* packed = nullptr;  // compiler-packed data (packed_bytes / 4 entries)

  template <class Params>
  const Params& params_as() const {
    return *static_cast<const Params*>(params);
  }
  // Bytes of any tensor (constant: in the blob; activation or persistent: in the arena).
  const uint8_t* data(uint16_t tensor) const {
    const TemTensor& t = tensors[tensor];
    return (t.flags & kTensorConstant ? blob : arena) + t.offset;
  }
  uint8_t* mutable_data(uint16_t tensor) const { return arena + tensors[tensor].offset; }
};

// Maps a rank-0..4 tensor onto NHWC: the last dim is always channels. Kernels that accept higher
// ranks read TemTensor::dims themselves.
inline Shape4 shape_of(const TemTensor& t) {
  Shape4 s;
  switch (t.rank) {
    case 0:
      break;
    case 1:
      s.c = static_cast<int32_t>(t.dims[0]);
      break;
    case 2:
      s.n = static_cast<int32_t>(t.dims[0]);
      s.c = static_cast<int32_t>(t.dims[1]);
      break;
    case 3:
      s.n = static_cast<int32_t>(t.dims[0]);
      s.w = static_cast<int32_t>(t.dims[1]);
      s.c = static_cast<int32_t>(t.dims[2]);
      break;
    default:
      s.n = static_cast<int32_t>(t.dims[0]);
      s.h = static_cast<int32_t>(t.dims[1]);
      s.w = static_cast<int32_t>(t.dims[2]);
      s.c = static_cast<int32_t>(t.dims[3]);
      break;
  }
  return s;
}

}  // namespace tinyedge::runtime
