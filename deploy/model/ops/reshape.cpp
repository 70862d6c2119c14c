// RESHAPE: the output tensor's shape rules (the optional shape input is dropped); the planner
// gives the output its dying input's bytes, so the kernel usually copies nothing.
#include "deploy/model/basic_lowering.h"
#include "deploy/model/op_table.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void lower(LowerContext& c) {
  if (c.op().inputs.empty() || c.op().inputs.size() > 2) c.fail("expects 1 or 2 inputs");
  c.need_outputs(1);
  const Tensor& in = c.activation(c.in(0));
  const Tensor& out = c.activation(c.out());
  if (in.element_count() != out.element_count()) c.fail("reshape must keep the element count", c.out());
  Lowered& l = c.emit(rt::Kernel::kReshape);
  l.inputs = {c.in(0)};
  rt::BasicOpParams p{};
  p.depth_multiplier = 1;
  set_common(p, in, out, Activation::kNone);
  l.in_place = Lowered::InPlace::kAlias;
  l.set_params(p);
}

}  // namespace

std::vector<OpDef> reshape_ops() { return {{22, "RESHAPE", nullptr, lower, nullptr}}; }

}  // namespace tinyedge::model
