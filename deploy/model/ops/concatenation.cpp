// CONCATENATION and PACK (inputs stacked along a new axis), and SPLIT, SPLIT_V and UNPACK, their
// mirror images: bytes copied unchanged, so every part shares the whole's quantisation.
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "deploy/model/ops/data_op_helpers.h"
#include "node_firmware/runtime/kernels/layout_params.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void import_concatenation(const fb::Operator& op, Op& out, const std::string& where) {
  if (const auto* o = op.builtin_options_as_ConcatenationOptions()) {
    out.options.ints["axis"] = o->axis();
    if (fused_activation(o->fused_activation_function(), where) != Activation::kNone) {
      throw ImportError(where + ": CONCATENATION with a fused activation is not supported");
    }
  }
}
void import_pack(const fb::Operator& op, Op& out, const std::string&) {
  if (const auto* o = op.builtin_options_as_PackOptions()) out.options.ints["axis"] = o->axis();
}
void import_unpack(const fb::Operator& op, Op& out, const std::string&) {
  if (const auto* o = op.builtin_options_as_UnpackOptions()) out.options.ints["axis"] = o->axis();
}

// Checks whole against parts along axis (packed: parts lack that dim).
void check_parts(const LowerContext& c, const Tensor& whole, int whole_index, const std::vector<int>& parts,
                 int32_t axis, bool packed) {
  int64_t along = 0;
  for (int k : parts) {
    const Tensor& t = moved(c, k);
    same_quantisation(c, t, whole, whole_index);
    std::vector<int32_t> expect = whole.shape;
    if (packed) {
      expect.erase(expect.begin() + axis);
      along += 1;
    } else if (t.shape.size() == whole.shape.size()) {
      expect[axis] = t.shape[axis];
      along += t.shape[axis];
    }
    if (t.shape != expect)
      c.fail("shape " + shape_text(t.shape) + " does not fit " + shape_text(whole.shape) +
                 (packed ? " as a slice at" : " along") + " axis " + std::to_string(axis),
             k);
  }
  if (along != whole.shape[axis])
    c.fail("parts do not add up to " + shape_text(whole.shape) + " along axis " + std::to_string(axis), whole_index);
}

void lower_join(LowerContext& c, bool packed) {
  c.need_outputs(1);
  if (c.op().inputs.empty() || c.op().inputs.size() > 32) c.fail("expects 1..32 inputs");
  const Tensor& out = moved(c, c.out());
  need_rank_at_most_6(c, out, c.out());
  const int32_t axis = resolve_axis(c, c.op().options.int_or("axis", 0), out.shape.size(), c.out());
  check_parts(c, out, c.out(), c.op().inputs, axis, packed);
  Lowered& l = c.emit(rt::Kernel::kConcatenation);
  l.set_params(rt::JoinParams{axis, packed ? 1 : 0});
}

void lower_concatenation(LowerContext& c) { lower_join(c, false); }
void lower_pack(LowerContext& c) { lower_join(c, true); }

void lower_split_common(LowerContext& c, int data, int64_t axis_value, bool packed) {
  if (c.op().outputs.empty() || c.op().outputs.size() > 32) c.fail("expects 1..32 outputs");
  const Tensor& in = moved(c, data);
  need_rank_at_most_6(c, in, data);
  const int32_t axis = resolve_axis(c, axis_value, in.shape.size(), data);
  check_parts(c, in, data, c.op().outputs, axis, packed);
  Lowered& l = c.emit(rt::Kernel::kSplit);
  l.inputs = {data};
  l.set_params(rt::JoinParams{axis, packed ? 1 : 0});
}

void lower_split(LowerContext& c) {  // inputs: axis, input
  c.need_inputs(2);
  const std::vector<int64_t> axis = constant_ints(c, c.in(0), "axis");
  if (axis.size() != 1) c.fail("axis must be one value", c.in(0));
  lower_split_common(c, c.in(1), axis[0], false);
}
void lower_split_v(LowerContext& c) {  // inputs: input, size_splits, axis (sizes: the outputs' shapes)
  c.need_inputs(3);
  const std::vector<int64_t> axis = constant_ints(c, c.in(2), "axis");
  if (axis.size() != 1) c.fail("axis must be one value", c.in(2));
  lower_split_common(c, c.in(0), axis[0], false);
}
void lower_unpack(LowerContext& c) {
  c.need_inputs(1);
  lower_split_common(c, c.in(0), c.op().options.int_or("axis", 0), true);
}

}  // namespace

std::vector<OpDef> concatenation_ops() {
  return {{2, "CONCATENATION", import_concatenation, lower_concatenation, nullptr},
          {83, "PACK", import_pack, lower_pack, nullptr},
          {49, "SPLIT", nullptr, lower_split, nullptr},
          {102, "SPLIT_V", nullptr, lower_split_v, nullptr},
          {88, "UNPACK", import_unpack, lower_unpack, nullptr}};
}

}  // namespace tinyedge::model
