// GATHER: int32 indices, a constant (range-checked here) or an activation; batch_dims <= axis.
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "deploy/model/ops/data_op_helpers.h"
#include "node_firmware/runtime/kernels/layout_params.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void import(const fb::Operator& op, Op& out, const std::string&) {
  if (const auto* o = op.builtin_options_as_GatherOptions()) {
    out.options.ints["axis"] = o->axis();
    out.options.ints["batch_dims"] = o->batch_dims();
  }
}

void lower(LowerContext& c) {
  c.need_inputs(2);
  c.need_outputs(1);
  const Tensor& data = moved(c, c.in(0));
  const Tensor& out = c.tensor(c.out());
  same_quantisation(c, data, out, c.out());
  need_rank_at_most_6(c, data, c.in(0));
  const Tensor& indices = c.tensor(c.in(1));
  const int32_t axis = resolve_axis(c, c.op().options.int_or("axis", 0), data.shape.size(), c.in(0));
  int64_t batch_dims = c.op().options.int_or("batch_dims", 0);
  if (batch_dims < 0) batch_dims += static_cast<int64_t>(indices.shape.size());
  if (batch_dims < 0 || batch_dims > axis || batch_dims > static_cast<int64_t>(indices.shape.size())) {
    c.fail("batch_dims " + std::to_string(batch_dims) + " out of range", c.in(1));
  }
  std::vector<int32_t> expect(data.shape.begin(), data.shape.begin() + axis);
  expect.insert(expect.end(), indices.shape.begin() + batch_dims, indices.shape.end());
  expect.insert(expect.end(), data.shape.begin() + axis + 1, data.shape.end());
  if (expect != out.shape)
    c.fail("output shape " + shape_text(out.shape) + " should be " + shape_text(expect), c.out());
  Lowered& l = c.emit(rt::Kernel::kGather);
  if (indices.is_constant()) {
    for (int64_t i : constant_ints(c, c.in(1), "indices")) {
      if (i < 0 || i >= data.shape[axis]) c.fail("index " + std::to_string(i) + " outside the gathered axis", c.in(1));
    }
    if (indices.type == DataType::kInt64) c.fail("int64 indices are not supported (use int32)", c.in(1));
  } else if (indices.type != DataType::kInt32) {
    c.fail(std::string(type_name(indices.type)) + " indices: only int32 is supported", c.in(1));
  }
  l.set_params(rt::GatherParams{axis, static_cast<int32_t>(batch_dims)});
}

}  // namespace

std::vector<OpDef> gather_ops() { return {{36, "GATHER", import, lower, nullptr}}; }

}  // namespace tinyedge::model
