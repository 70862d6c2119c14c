// SOFTMAX (int8 in, int8 out with scale 1/256 and zero point -128, at most 256 classes).
#include <cmath>

#include "deploy/model/basic_lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "deploy/model/quantize.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void import(const fb::Operator& op, Op& out, const std::string&) {
  const auto* o = op.builtin_options_as_SoftmaxOptions();
  out.options.beta = o ? o->beta() : 1.0f;
}

void lower(LowerContext& c) {
  c.need_inputs(1);
  c.need_outputs(1);
  const Tensor& in = c.activation(c.in(0));
  const Tensor& out = c.activation(c.out());
  if (zp_of(out) != -128 || std::fabs(scale_of(out) - 1.0f / 256) > 1e-8f) {
    c.fail("int8 softmax output must have scale 1/256 and zero point -128", c.out());
  }
  if (in.shape != out.shape) c.fail("softmax must keep its shape");
  if (in.shape.back() > 256) c.fail("softmax over more than 256 classes is not supported");
  Lowered& l = c.emit(rt::Kernel::kSoftmax);
  rt::BasicOpParams p{};
  p.depth_multiplier = 1;
  set_common(p, in, out, Activation::kNone);
  const SoftmaxParams q = softmax_params(c.op().options.beta, scale_of(in));
  if (q.beta_left_shift < 0 || q.beta_left_shift > 30) c.fail("softmax beta * input scale out of range");
  p.extra[0] = q.beta_multiplier;
  p.extra[1] = q.beta_left_shift;
  p.extra[2] = q.diff_min;
  l.in_place = Lowered::InPlace::kSameOffset;
  l.set_params(p);
}

}  // namespace

std::vector<OpDef> softmax_ops() { return {{25, "SOFTMAX", import, lower, nullptr}}; }

}  // namespace tinyedge::model
