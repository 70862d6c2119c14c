// Load-time checks of the int8 CONV_2D and DEPTHWISE_CONV_2D ops, which differ only in the filter's
// shape: both take BasicOpParams, an int8 filter, an int32 bias, per-channel requantisation and the
// compiler's folded bias (plus, for conv, its transposed filter, or a filter blocked for the M4) as packed data.
#pragma once
#include "node_firmware/runtime/kernels/basic_validate.h"
#include "node_firmware/runtime/kernels/dsp_conv.h"
#include "node_firmware/runtime/kernels/op_context.h"

namespace tinyedge::runtime::kernels {

template <bool kDepthwise>
Status validate_int8_conv(const ValidateContext& v) {
  Status status;
  const BasicOpParams* p = basic_int8_op(v, 3, status);
  if (p == nullptr) return status;
  if (!v.input_is_constant(1, TemType::kInt8) || !v.input_is_constant(2, TemType::kInt32)) return Status::kBadIndex;
  const TemTensor& tin = *v.input(0);
  const TemTensor& tf = *v.input(1);
  const TemTensor& tb = *v.input(2);
  const TemTensor& tout = *v.output(0);
  if (tin.rank != 4 || tout.rank != 4 || tf.rank != 4 || tb.rank != 1) return Status::kBadShape;
  const Shape4 in = shape_of(tin);
  const Shape4 out = shape_of(tout);
  const Shape4 f = shape_of(tf);
  if (in.n != out.n || static_cast<int32_t>(tb.dims[0]) != out.c) return Status::kBadShape;
  if constexpr (kDepthwise) {
    if (f.n != 1 || f.c != out.c || p->depth_multiplier < 1 || out.c != in.c * p->depth_multiplier) {
      return Status::kBadShape;
    }
    if (int64_t{f.h} * f.w > kMaxDotLength) return Status::kTooLarge;
  } else {
    if (f.c != in.c || f.n != out.c) return Status::kBadShape;
    if (int64_t{f.h} * f.w * f.c > kMaxDotLength) return Status::kTooLarge;
  }
  if (p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1) return Status::kBadParams;
  if (Status s = v.quant_table(1, static_cast<uint32_t>(out.c), false); s != Status::kOk) return s;
  const int32_t depth = static_cast<int32_t>(tf.bytes) / out.c;  // KH*KW*I taps per output channel
  if (Status s = basic_packed(v, *p, static_cast<uint32_t>(out.c) * 4, kDepthwise ? 0 : tf.bytes); s != Status::kOk) {
    return s;
  }
  const int32_t block = kDepthwise || depth < 4 ? 0 : dsp::conv_block(depth);
  return blocked_filter_matches(v, *p, out.c, depth, block);
}

}  // namespace tinyedge::runtime::kernels
