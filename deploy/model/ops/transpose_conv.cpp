// TRANSPOSE_CONV (int8 with int32 bias; 16x8: int16 activations with zero point 0 and int64 bias):
// TFLite's inputs are (output shape, filter [O,KH,KW,I], input, optional bias); the kernel takes
// (input, filter, bias or absent, output shape). The output shape may be a graph input (SEANet):
// the output tensor's shape rules, a constant shape tensor must agree with it. Padding is TFLite
// Micro's: computed as for a forward conv from the output size.
#include "deploy/model/basic_lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "deploy/model/quantize.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

struct TransposeConvParams {  // runtime kernels/transpose_conv.cpp
  int32_t stride_h, stride_w, pad_top, pad_left, input_offset, output_offset, act_min, act_max;
};

void import(const fb::Operator& op, Op& out, const std::string& where) {
  const auto* o = op.builtin_options_as_TransposeConvOptions();
  if (!o) throw ImportError(where + ": missing options");
  out.options.padding = padding(o->padding());
  out.options.stride_w = o->stride_w();
  out.options.stride_h = o->stride_h();
  out.options.activation = fused_activation(o->fused_activation_function(), where);
}

// TFLite's ComputePaddingHeightWidth with the output size as the "input" of a forward conv.
int32_t transpose_pad(Padding padding, int32_t out_size, int32_t filter, int32_t stride) {
  const int32_t forward =
      padding == Padding::kSame ? (out_size + stride - 1) / stride : (out_size - filter + stride) / stride;
  const int32_t total = (forward - 1) * stride + filter - out_size;
  return total > 0 ? total / 2 : 0;
}

void lower(LowerContext& c) {
  if (c.op().inputs.size() != 3 && c.op().inputs.size() != 4) c.fail("expects 3 or 4 inputs");
  c.need_outputs(1);
  const bool int16 = c.in(2) >= 0 && c.tensor(c.in(2)).type == DataType::kInt16;
  const DataType type = int16 ? DataType::kInt16 : DataType::kInt8;
  const Tensor& shape = c.tensor(c.in(0));
  const Tensor& filter = c.constant(c.in(1), DataType::kInt8);
  const Tensor& in = c.activation(c.in(2), type);
  const Tensor& out = c.activation(c.out(), type);
  if (shape.type != DataType::kInt32 || shape.element_count() != 4) c.fail("output shape must be int32 [4]", c.in(0));
  if (shape.is_constant()) {
    for (size_t k = 0; k < 4; ++k) {
      if (read_i32(shape, k) != dim(out, k)) c.fail("output shape tensor disagrees with the output tensor", c.in(0));
    }
  }
  if (in.shape.size() != 4 || out.shape.size() != 4 || filter.shape.size() != 4) c.fail("tensors must be 4-D NHWC");
  const int32_t oc = dim(out, 3);
  if (dim(filter, 0) != oc || dim(filter, 3) != dim(in, 3)) c.fail("filter must be [out,KH,KW,in]", c.in(1));
  if (dim(in, 0) != dim(out, 0)) c.fail("batch mismatch");
  const int bias_index = c.op().inputs.size() == 4 ? c.in(3) : -1;
  if (bias_index >= 0) {
    const Tensor& bias = c.constant(bias_index, int16 ? DataType::kInt64 : DataType::kInt32);
    if (bias.element_count() != static_cast<size_t>(oc))
      c.fail("bias must have one value per output channel", bias_index);
  }
  if (int16 && (zp_of(in) != 0 || zp_of(out) != 0))
    c.fail("16x8: int16 zero points must be 0", zp_of(in) ? c.in(2) : c.out());
  const OpOptions& o = c.op().options;
  if (o.stride_h < 1 || o.stride_w < 1 || o.stride_h > 255 || o.stride_w > 255) c.fail("stride out of range 1..255");
  Lowered& l = c.emit(rt::Kernel::kTransposeConv);
  l.inputs = {c.in(2), c.in(1), bias_index, c.in(0)};
  conv_quant(c, l, in, filter, out, oc, false);
  for (uint32_t k = 0; int16 && k < l.quant_count; ++k) {
    if (l.quant[l.quant_count + k] > 7) c.fail("16x8 requantisation scale too large (shift above 7)", c.out());
  }
  TransposeConvParams p{};
  p.stride_h = o.stride_h;
  p.stride_w = o.stride_w;
  p.pad_top = transpose_pad(o.padding, dim(out, 1), dim(filter, 1), o.stride_h);
  p.pad_left = transpose_pad(o.padding, dim(out, 2), dim(filter, 2), o.stride_w);
  p.input_offset = -zp_of(in);
  p.output_offset = zp_of(out);
  const ActivationRange r =
      activation_range(o.activation, scale_of(out), zp_of(out), int16 ? -32768 : -128, int16 ? 32767 : 127);
  p.act_min = r.min;
  p.act_max = r.max;
  l.set_params(p);
}

}  // namespace

std::vector<OpDef> transpose_conv_ops() { return {{67, "TRANSPOSE_CONV", import, lower, nullptr}}; }

}  // namespace tinyedge::model
