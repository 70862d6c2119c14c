// AVERAGE_POOL_2D and MAX_POOL_2D (int8, same quantisation in and out).
#include "deploy/model/basic_lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void import(const fb::Operator& op, Op& out, const std::string& where) {
  const auto* o = op.builtin_options_as_Pool2DOptions();
  if (!o) throw ImportError(where + ": missing options");
  out.options.padding = padding(o->padding());
  out.options.stride_w = o->stride_w();
  out.options.stride_h = o->stride_h();
  out.options.filter_w = o->filter_width();
  out.options.filter_h = o->filter_height();
  out.options.activation = fused_activation(o->fused_activation_function(), where);
}

void lower(LowerContext& c) {
  c.need_inputs(1);
  c.need_outputs(1);
  const Op& op = c.op();
  const Tensor& in = c.activation(c.in(0));
  const Tensor& out = c.activation(c.out());
  if (scale_of(in) != scale_of(out) || zp_of(in) != zp_of(out)) c.fail("pool input and output quantisation must match");
  if (dim(in, 3) != dim(out, 3) || dim(in, 0) != dim(out, 0)) c.fail("pool must keep batch and channels");
  const int32_t fh = op.options.filter_h, fw = op.options.filter_w;
  if (fh < 1 || fw < 1 || fh > 255 || fw > 255) c.fail("pool filter size out of range 1..255");
  if (op.options.dilation_h != 1 || op.options.dilation_w != 1) c.fail("pools take no dilation");
  Lowered& l = c.emit(op.kind == OpKind::kAveragePool2D ? rt::Kernel::kAveragePool2D : rt::Kernel::kMaxPool2D);
  rt::BasicOpParams p{};
  p.depth_multiplier = 1;
  window(c, p, l, in, out, fh, fw);
  set_common(p, in, out, op.options.activation);
  p.filter_h = static_cast<uint8_t>(fh);
  p.filter_w = static_cast<uint8_t>(fw);
  l.set_params(p);
}

}  // namespace

std::vector<OpDef> pooling_ops() {
  return {{1, "AVERAGE_POOL_2D", import, lower, nullptr}, {17, "MAX_POOL_2D", import, lower, nullptr}};
}

}  // namespace tinyedge::model
