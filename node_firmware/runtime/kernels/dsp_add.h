// ADD (int8, both inputs of the output's shape: resnet's residual joins) for the Cortex-M4: the
// three rescales of add_sub.h with their constants worked out once per op (dsp_output.h's
// ChannelScale, one UMLAL each) instead of fx::requantise_fast's 64-bit shifts by a variable
// amount per element; the same bits. Compiled on every target (the host tests run it against the
// reference kernel); add.cpp runs it where __ARM_FEATURE_DSP is defined.
#pragma once
#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/dsp_output.h"
#include "node_firmware/runtime/kernels/op_context.h"
#include "node_firmware/runtime/tem_format.h"

namespace tinyedge::runtime::dsp {

// Whether add() below runs this op (else add_sub.h's broadcasting kernel does).
inline bool add_fits(const OpContext& ctx) {
  const TemTensor& to = ctx.tensors[ctx.outputs[0]];
  const TemTensor& ta = ctx.tensors[ctx.inputs[0]];
  const TemTensor& tb = ctx.tensors[ctx.inputs[1]];
  return to.type == static_cast<uint8_t>(TemType::kInt8) && ta.bytes == to.bytes && tb.bytes == to.bytes;
}

inline void add(const OpContext& ctx) {
  const BasicOpParams& p = ctx.params_as<BasicOpParams>();
  const int32_t left_shift = p.extra[0];  // 20 for int8 (validated)
  const ChannelScale s1 = make_scale(p.extra[1], p.extra[2]);
  const ChannelScale s2 = make_scale(p.extra[3], p.extra[4]);
  const ChannelScale so = make_scale(ctx.multipliers[0], ctx.shifts[0]);
  const OutputRange range = output_range(ctx);
  const int32_t off1 = p.input_offset, off2 = p.input2_offset;
  const int8_t* a = ctx.input;
  const int8_t* b = ctx.input2;
  int8_t* out = ctx.output;
  const uint32_t n = ctx.tensors[ctx.outputs[0]].bytes;
  for (uint32_t i = 0; i < n; ++i) {
    const int32_t x = scale(s1, (a[i] + off1) * (1 << left_shift));
    const int32_t y = scale(s2, (b[i] + off2) * (1 << left_shift));
    out[i] = to_output(range, scale(so, add_wrap(x, static_cast<uint32_t>(y))));
  }
}

}  // namespace tinyedge::runtime::dsp
