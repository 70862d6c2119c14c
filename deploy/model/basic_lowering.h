// Lowering helpers shared by the ops whose params blob is runtime::BasicOpParams (conv,
// depthwise, FC, pools, add, reshape, softmax): activation clamps, TFLite's SAME/VALID window
// geometry, per-channel requantisation and the folded bias of the optimised kernels.
#pragma once
#include <cstdint>
#include <vector>

#include "deploy/model/lowering.h"
#include "node_firmware/runtime/kernels/basic_params.h"

namespace tinyedge::model {

struct Geometry {
  int32_t out = 0, pad = 0;
};
Geometry geometry(Padding p, int32_t in, int32_t filter, int32_t stride, int32_t dilation);

// Zero points and the fused activation's clamp.
void set_common(runtime::BasicOpParams& p, const Tensor& in, const Tensor& out, Activation act);
// Stride, dilation and padding of a windowed op over 4-D NHWC tensors; also lets the planner
// run it in place (input 0 above the output by the rows' gap) when the batch is 1.
void window(const LowerContext& c, runtime::BasicOpParams& p, Lowered& l, const Tensor& in, const Tensor& out,
            int32_t fh, int32_t fw);
// Per-channel (or per-tensor) output multipliers and shifts into l.quant (TFLite's
// PopulateConvolutionQuantizationParams); `fc` takes a per-tensor scale product in float.
void conv_quant(const LowerContext& c, Lowered& l, const Tensor& in, const Tensor& filter, const Tensor& out,
                int32_t channels, bool fc);
// packed[oc] = bias[oc] + input_offset * sum of the filter taps feeding output channel oc.
std::vector<int32_t> fold_bias(const Tensor& bias, int32_t input_offset, const std::vector<int64_t>& filter_sums);
// The output stage's per-channel constants of TemPacking::kBiasScales (from l.quant, which
// conv_quant filled), appended to the packed data right after the folded bias: the Cortex-M4
// kernels then do no per-channel arithmetic (8 bytes per channel of flash).
void append_output_scales(Lowered& l, int32_t channels);

}  // namespace tinyedge::model
