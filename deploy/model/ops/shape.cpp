// SHAPE: always folded at compile time (shapes are static), into an int32 or int64 constant.
#include "deploy/model/lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"

namespace tinyedge::model {
namespace {

void import(const fb::Operator& op, Op&, const std::string& where) {
  const auto* o = op.builtin_options_as_ShapeOptions();
  const int8_t type = o ? o->out_type() : 2;
  if (type != 2 && type != 4) throw ImportError(where + ": SHAPE output type must be int32 or int64");
}

bool fold(const Graph& g, const Op& op, std::vector<std::vector<uint8_t>>& outputs) {
  if (op.inputs.size() != 1 || op.outputs.size() != 1 || op.inputs[0] < 0) return false;
  const Tensor& in = g.tensors[op.inputs[0]];
  const Tensor& out = g.tensors[op.outputs[0]];
  const size_t width = out.type == DataType::kInt64 ? 8 : 4;
  if ((out.type != DataType::kInt32 && out.type != DataType::kInt64) || out.element_count() != in.shape.size()) {
    return false;
  }
  std::vector<uint8_t> data;
  for (int32_t d : in.shape) {
    const int64_t v = d;
    for (size_t b = 0; b < width; ++b) data.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * b)));
  }
  outputs = {std::move(data)};
  return true;
}

void lower(LowerContext& c) { c.fail("SHAPE must fold at compile time (output must be int32/int64 [rank])", c.out()); }

}  // namespace

std::vector<OpDef> shape_ops() { return {{77, "SHAPE", import, lower, fold}}; }

}  // namespace tinyedge::model
