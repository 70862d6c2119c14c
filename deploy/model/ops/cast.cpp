// CAST between int8, int16, int32, int64, float32 and bool (no quantisation involved).
#include "deploy/model/op_table.h"
#include "deploy/model/ops/data_op_helpers.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void lower(LowerContext& c) {
  c.need_inputs(1);
  c.need_outputs(1);
  const Tensor& in = c.tensor(c.in(0));
  const Tensor& out = c.tensor(c.out());
  if (in.is_constant()) c.fail("a constant input is not supported", c.in(0));
  if (in.element_count() != out.element_count()) c.fail("input and output sizes differ", c.out());
  Lowered& l = c.emit(rt::Kernel::kCast);
  (void)l;
}

}  // namespace

std::vector<OpDef> cast_ops() { return {{53, "CAST", nullptr, lower, nullptr}}; }

}  // namespace tinyedge::model
