// The params blob of the first eight kernels (conv, depthwise, FC, pools, add, reshape,
// softmax): what version 1 of the format kept in every op record. New kernels define their own
// params struct next to their code instead of growing this one.
#pragma once
#include <cstdint>

namespace tinyedge::runtime {

struct BasicOpParams {
  uint8_t stride_h, stride_w, dilation_h, dilation_w;
  uint8_t pad_top, pad_left, filter_h, filter_w;  // filter_*: pools only
  uint8_t depth_multiplier;
  uint8_t packing;  // TemPacking: what TemOp::packed_* holds
  uint8_t reserved[2];
  int32_t input_offset;   // -input zero point
  int32_t input2_offset;  // ADD: -second input zero point
  int32_t output_offset;  // output zero point
  int32_t act_min, act_max;
  // ADD: left_shift, in1 multiplier, in1 shift, in2 multiplier, in2 shift.
  // SOFTMAX: input_beta_multiplier, input_beta_left_shift, diff_min.
  int32_t extra[5];
};
static_assert(sizeof(BasicOpParams) == 52);

}  // namespace tinyedge::runtime
