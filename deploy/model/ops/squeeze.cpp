// SQUEEZE and EXPAND_DIMS: only the shape changes, so both lower to the RESHAPE kernel and the
// planner aliases the output onto the input (the axis input of EXPAND_DIMS is dropped: the
// output tensor's shape rules).
#include "deploy/model/op_table.h"
#include "deploy/model/ops/data_op_helpers.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void lower(LowerContext& c) {
  if (c.op().inputs.empty() || c.op().inputs.size() > 2) c.fail("expects 1 or 2 inputs");
  c.need_outputs(1);
  const Tensor& in = moved(c, c.in(0));
  if (in.is_constant()) c.fail("input is a constant", c.in(0));
  const Tensor& out = c.tensor(c.out());
  same_quantisation(c, in, out, c.out());
  need_rank_at_most_6(c, out, c.out());
  if (in.element_count() != out.element_count()) c.fail("must keep the element count", c.out());
  Lowered& l = c.emit(rt::Kernel::kReshape);
  l.inputs = {c.in(0)};
  l.in_place = Lowered::InPlace::kAlias;
}

}  // namespace

std::vector<OpDef> squeeze_ops() {
  return {{43, "SQUEEZE", nullptr, lower, nullptr}, {70, "EXPAND_DIMS", nullptr, lower, nullptr}};
}

}  // namespace tinyedge::model
