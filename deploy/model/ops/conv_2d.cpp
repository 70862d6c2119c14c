// CONV_2D and DEPTHWISE_CONV_2D (int8, per-channel filters): window geometry, requantisation,
// the bias folded with the input offset, and for short dot products [K][O] reordered weights.
// 16x8 (int16 activations with zero point 0, int8 filters, int64 or int32 bias or none): the same
// geometry and requantisation, no packing (the runtime's 16x8 kernels take the tensors as they are).
#include "deploy/model/basic_lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "node_firmware/runtime/kernels/dsp_conv.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void import_conv(const fb::Operator& op, Op& out, const std::string& where) {
  const auto* o = op.builtin_options_as_Conv2DOptions();
  if (!o) throw ImportError(where + ": missing options");
  out.options.padding = padding(o->padding());
  out.options.stride_w = o->stride_w();
  out.options.stride_h = o->stride_h();
  out.options.dilation_w = o->dilation_w_factor();
  out.options.dilation_h = o->dilation_h_factor();
  out.options.activation = fused_activation(o->fused_activation_function(), where);
}

void import_depthwise(const fb::Operator& op, Op& out, const std::string& where) {
  const auto* o = op.builtin_options_as_DepthwiseConv2DOptions();
  if (!o) throw ImportError(where + ": missing options");
  out.options.padding = padding(o->padding());
  out.options.stride_w = o->stride_w();
  out.options.stride_h = o->stride_h();
  out.options.depth_multiplier = o->depth_multiplier();
  out.options.dilation_w = o->dilation_w_factor();
  out.options.dilation_h = o->dilation_h_factor();
  out.options.activation = fused_activation(o->fused_activation_function(), where);
}

void lower_16x8(LowerContext& c) {
  c.need_inputs(3);
  const Op& op = c.op();
  const bool dw = op.kind == OpKind::kDepthwiseConv2D;
  const Tensor& in = c.activation(c.in(0), DataType::kInt16);
  const Tensor& filter = c.constant(c.in(1), DataType::kInt8);
  const Tensor& out = c.activation(c.out(), DataType::kInt16);
  if (zp_of(in) != 0) c.fail("16x8: int16 input zero point must be 0", c.in(0));
  if (zp_of(out) != 0) c.fail("16x8: int16 output zero point must be 0", c.out());
  if (filter.shape.size() != 4) c.fail("filter must be 4-D", c.in(1));
  const int32_t oc = dim(out, 3);
  rt::BasicOpParams p{};
  p.depth_multiplier = 1;
  if (dw) {
    const int32_t dm = op.options.depth_multiplier;
    if (dim(filter, 0) != 1 || dim(filter, 3) != oc) c.fail("depthwise filter must be [1,KH,KW,out_channels]", c.in(1));
    if (dm < 1 || dm > 255 || dim(in, 3) * dm != oc) c.fail("out channels must be in channels * depth_multiplier");
    p.depth_multiplier = static_cast<uint8_t>(dm);
  } else if (dim(filter, 0) != oc || dim(filter, 3) != dim(in, 3)) {
    c.fail("filter must be [out,KH,KW,in] (grouped convolution is not supported)", c.in(1));
  }
  if (c.in(2) >= 0) {
    const Tensor& bias = c.tensor(c.in(2));
    if (!bias.is_constant() || (bias.type != DataType::kInt64 && bias.type != DataType::kInt32)) {
      c.fail("16x8 bias must be constant int64 (or int32)", c.in(2));
    }
    if (bias.element_count() != static_cast<size_t>(oc)) c.fail("bias must have one value per output channel", c.in(2));
  }
  if (dim(in, 0) != dim(out, 0)) c.fail("batch mismatch");
  Lowered& l = c.emit(dw ? rt::Kernel::kDepthwiseConv2D : rt::Kernel::kConv2D);
  window(c, p, l, in, out, dim(filter, 1), dim(filter, 2));
  set_common(p, in, out, op.options.activation);
  conv_quant(c, l, in, filter, out, oc, false);
  for (uint32_t k = 0; k < l.quant_count; ++k) {
    if (l.quant[l.quant_count + k] > 7) c.fail("16x8 requantisation scale too large (shift above 7)", c.out());
  }
  l.set_params(p);
}

void lower(LowerContext& c) {
  c.need_outputs(1);
  if (c.in(0) >= 0 && c.tensor(c.in(0)).type == DataType::kInt16) return lower_16x8(c);
  c.need_inputs(3);
  const Op& op = c.op();
  const bool dw = op.kind == OpKind::kDepthwiseConv2D;
  const Tensor& in = c.activation(c.in(0));
  const Tensor& filter = c.constant(c.in(1), DataType::kInt8);
  const Tensor& bias = c.constant(c.in(2), DataType::kInt32);
  const Tensor& out = c.activation(c.out());
  if (filter.shape.size() != 4) c.fail("filter must be 4-D", c.in(1));
  const int32_t oc = dim(out, 3);
  const int32_t kh = dim(filter, 1), kw = dim(filter, 2);
  rt::BasicOpParams p{};
  p.depth_multiplier = 1;
  if (dw) {
    const int32_t dm = op.options.depth_multiplier;
    if (dim(filter, 0) != 1 || dim(filter, 3) != oc) c.fail("depthwise filter must be [1,KH,KW,out_channels]", c.in(1));
    if (dm < 1 || dm > 255 || dim(in, 3) * dm != oc) c.fail("out channels must be in channels * depth_multiplier");
    p.depth_multiplier = static_cast<uint8_t>(dm);
  } else {
    if (dim(filter, 0) != oc || dim(filter, 3) != dim(in, 3)) c.fail("filter must be [out,KH,KW,in]", c.in(1));
  }
  if (bias.element_count() != static_cast<size_t>(oc)) c.fail("bias must have one value per output channel", c.in(2));
  if (dim(in, 0) != dim(out, 0)) c.fail("batch mismatch");
  Lowered& l = c.emit(dw ? rt::Kernel::kDepthwiseConv2D : rt::Kernel::kConv2D);
  window(c, p, l, in, out, kh, kw);
  set_common(p, in, out, op.options.activation);
  conv_quant(c, l, in, filter, out, oc, false);
  std::vector<int64_t> sums(oc, 0);
  const auto* w = reinterpret_cast<const int8_t*>(filter.data.data());
  if (dw) {
    for (int32_t t = 0; t < kh * kw; ++t) {
      for (int32_t ch = 0; ch < oc; ++ch) sums[ch] += w[t * oc + ch];
    }
  } else {
    const size_t len = filter.element_count() / oc;
    for (int32_t ch = 0; ch < oc; ++ch) {
      for (size_t k = 0; k < len; ++k) sums[ch] += w[ch * len + k];
    }
  }
  l.append_packed(fold_bias(bias, p.input_offset, sums));
  append_output_scales(l, oc);
  p.packing = static_cast<uint8_t>(rt::TemPacking::kBiasScales);
  const int32_t k = static_cast<int32_t>(filter.element_count() / oc);
  if (!dw && k < 64 && oc >= 8) {
    // Short dot products vectorise badly on the host: give its kernel [K][O] weights to run over
    // channels (the M4 kernel reads the filter itself).
    p.packing = static_cast<uint8_t>(rt::TemPacking::kBiasScalesTransposedConv);
    std::vector<int8_t> transposed(static_cast<size_t>(k) * oc);
    for (int32_t ch = 0; ch < oc; ++ch) {
      for (int32_t i = 0; i < k; ++i) transposed[static_cast<size_t>(i) * oc + ch] = w[ch * k + i];
    }
    l.append_packed(transposed);
  }
  const int32_t block = dw || k < 4 ? 0 : rt::dsp::conv_block(k);
  if (c.options().m4_blocked_weights && block != 0) {
    // The filter in the M4 kernel's blocks instead of the host's transposed copy (the host then
    // runs the M4 kernel's emulation: the option is for .tem files bound for Cortex-M4 nodes).
    l.packed.resize(static_cast<size_t>(oc) * 12);
    std::vector<uint8_t> blocked(filter.data.size());
    rt::dsp::block_filter(w, oc, k, block, reinterpret_cast<int8_t*>(blocked.data()));
    l.reordered_inputs.emplace_back(1, std::move(blocked));
    p.packing = static_cast<uint8_t>(rt::TemPacking::kBiasScalesBlockedFilter);
    p.reserved[0] = static_cast<uint8_t>(block);
  }
  l.set_params(p);
}

}  // namespace

std::vector<OpDef> conv_2d_ops() {
  return {{3, "CONV_2D", import_conv, lower, nullptr}, {4, "DEPTHWISE_CONV_2D", import_depthwise, lower, nullptr}};
}

}  // namespace tinyedge::model
