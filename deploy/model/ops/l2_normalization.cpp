// L2_NORMALIZATION (int8): over the last dimension, output scale 1/128 and zero point 0, no fused
// activation (TFLite Micro's constraints).
#include <cmath>

#include "deploy/model/lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void import(const fb::Operator& op, Op&, const std::string& where) {
  const auto* o = op.builtin_options_as_L2NormOptions();
  if (o && o->fused_activation_function() != 0) throw ImportError(where + ": fused activation not supported");
}

void lower(LowerContext& c) {
  c.need_inputs(1);
  c.need_outputs(1);
  const Tensor& in = c.activation(c.in(0));
  const Tensor& out = c.activation(c.out());
  if (in.shape != out.shape || in.shape.empty() || in.shape.size() > 4)
    c.fail("output must have the input's shape (rank 1..4)", c.out());
  if (in.shape.back() > 32768) c.fail("last dimension above 32768", c.in(0));
  if (zp_of(out) != 0 || std::fabs(scale_of(out) - 1.0f / 128) > 1e-8f) {
    c.fail("int8 L2_NORMALIZATION output must have scale 1/128 and zero point 0", c.out());
  }
  Lowered& l = c.emit(rt::Kernel::kL2Normalization);
  l.set_params(zp_of(in));
  l.in_place = Lowered::InPlace::kSameOffset;
}

}  // namespace

std::vector<OpDef> l2_normalization_ops() { return {{11, "L2_NORMALIZATION", import, lower, nullptr}}; }

}  // namespace tinyedge::model
