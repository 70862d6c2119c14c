// ADD (int8, same shapes): TFLite's left-shifted dual requantisation.
#include "deploy/model/basic_lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "deploy/model/quantize.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void import(const fb::Operator& op, Op& out, const std::string& where) {
  if (const auto* o = op.builtin_options_as_AddOptions()) {
    out.options.activation = fused_activation(o->fused_activation_function(), where);
  }
}

void lower(LowerContext& c) {
  c.need_inputs(2);
  c.need_outputs(1);
  const Tensor& a = c.activation(c.in(0));
  const Tensor& b = c.activation(c.in(1));
  const Tensor& out = c.activation(c.out());
  if (a.shape != b.shape || a.element_count() != out.element_count()) c.fail("broadcasting ADD is not supported");
  Lowered& l = c.emit(rt::Kernel::kAdd);
  rt::BasicOpParams p{};
  p.depth_multiplier = 1;
  set_common(p, a, out, c.op().options.activation);
  p.input2_offset = -zp_of(b);
  const AddParams q = add_params(scale_of(a), scale_of(b), scale_of(out));
  if (q.input1_shift > 0 || q.input2_shift > 0 || q.output_shift > 0) {
    c.fail("ADD output scale too small for int8 requantisation");
  }
  p.extra[0] = q.left_shift;
  p.extra[1] = q.input1_multiplier;
  p.extra[2] = q.input1_shift;
  p.extra[3] = q.input2_multiplier;
  p.extra[4] = q.input2_shift;
  l.quant = {q.output_multiplier, q.output_shift};
  l.quant_count = 1;
  l.in_place = Lowered::InPlace::kSameOffset;
  l.set_params(p);
}

}  // namespace

std::vector<OpDef> add_ops() { return {{0, "ADD", import, lower, nullptr}}; }

}  // namespace tinyedge::model
