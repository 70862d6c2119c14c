// Params blobs of the kernels that only move data (PAD, TRANSPOSE, CONCATENATION, SPLIT,
// STRIDED_SLICE) and of the type converters (QUANTIZE, DEQUANTIZE): the compiler writes these
// structs byte for byte, the kernels' validate() checks every field.
#pragma once
#include <cstdint>

#include "node_firmware/runtime/tem_format.h"

namespace tinyedge::runtime {

struct PadParams {
  uint32_t before[kMaxRank];  // elements added before the input along each dim (0 beyond rank)
  int32_t pad_value;          // in the output's type (int8/int16/int32 range; float32 bits)
};
static_assert(sizeof(PadParams) == 28);

struct TransposeParams {
  uint8_t perm[kMaxRank];  // output dim d is input dim perm[d] (identity beyond rank)
  uint8_t reserved[2];
};
static_assert(sizeof(TransposeParams) == 8);

// CONCATENATION and PACK (pack = 1: each input gains a dim of 1 at `axis`); SPLIT, SPLIT_V and
// UNPACK mirror them (unpack = 1: each output lacks the dim at `axis`). `axis` counts in the
// larger side (the concatenated output, the split input), already made non-negative.
struct JoinParams {
  int32_t axis;
  int32_t packed;
};
static_assert(sizeof(JoinParams) == 8);

// STRIDED_SLICE and SLICE, resolved offline over the input's rank: output element i along dim d
// is input element begin[d] + i * stride[d], count[d] of them (the output shape may drop dims of
// count 1: shrink_axis_mask).
struct SliceParams {
  int32_t begin[kMaxRank];
  int32_t stride[kMaxRank];
  uint32_t count[kMaxRank];
};
static_assert(sizeof(SliceParams) == 72);

// GATHER: output = params[..batch.., ..outer.., indices[batch][...], ..inner..] along `axis`.
struct GatherParams {
  int32_t axis;        // in params' dims, non-negative
  int32_t batch_dims;  // leading dims shared by params and indices, <= axis
};
static_assert(sizeof(GatherParams) == 8);

// QUANTIZE (float32 -> int8/int16 uses scale/zero_point; integer -> integer requantises with the
// quant table entry) and DEQUANTIZE (int8/int16 -> float32 uses scale/zero_point of the input).
struct ConvertParams {
  float scale;               // the quantised side's scale
  int32_t zero_point;        // the quantised side's zero point (QUANTIZE int->int: the output's)
  int32_t input_zero_point;  // QUANTIZE int->int
};
static_assert(sizeof(ConvertParams) == 12);

}  // namespace tinyedge::runtime
