// MINIMUM and MAXIMUM: the raw quantised values compared, no rescaling, so inputs and output
// share one quantisation (the compiler checks the scales; zero points are checked here).
// Broadcasting up to rank 6; no params.
#pragma once
#include "node_firmware/runtime/kernels/broadcast.h"

namespace tinyedge::runtime {

inline Status validate_min_max(const ValidateContext& v) {
  if (v.op->input_count != 2 || v.op->output_count != 1) return Status::kBadOp;
  const TemTensor* a = v.input(0);
  const TemTensor* b = v.input(1);
  const TemTensor& out = *v.output(0);
  if (a == nullptr || b == nullptr || !is_int8_or_int16(out) || !same_type(*a, out) || !same_type(*b, out)) {
    return Status::kBadIndex;
  }
  if (!broadcast_shapes_ok(*a, *b, out)) return Status::kBadShape;
  if (!broadcast_input_apart(*a, out) || !broadcast_input_apart(*b, out)) return Status::kArenaOverlap;
  if (a->zero_point != out.zero_point || b->zero_point != out.zero_point) return Status::kBadQuantization;
  if (v.op->params_bytes != 0 || v.op->packed_bytes != 0 || v.op->quant_count != 0) return Status::kBadParams;
  return Status::kOk;
}

template <bool maximum>
void min_max(const OpContext& ctx) {
  const TemTensor& ta = ctx.tensors[ctx.inputs[0]];
  const TemTensor& tb = ctx.tensors[ctx.inputs[1]];
  const TemTensor& to = ctx.tensors[ctx.outputs[0]];
  if (to.type == static_cast<uint8_t>(TemType::kInt16)) {
    broadcast_binary<int16_t>(ta, reinterpret_cast<const int16_t*>(ctx.input), tb,
                              reinterpret_cast<const int16_t*>(ctx.input2), to, reinterpret_cast<int16_t*>(ctx.output),
                              [](int16_t a, int16_t b) { return maximum ? (a > b ? a : b) : (a < b ? a : b); });
  } else {
    broadcast_binary<int8_t>(ta, ctx.input, tb, ctx.input2, to, ctx.output,
                             [](int8_t a, int8_t b) { return maximum ? (a > b ? a : b) : (a < b ? a : b); });
  }
}

}  // namespace tinyedge::runtime
