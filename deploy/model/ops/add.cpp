// ADD and SUB, int8 or int16 (ADD: any zero points, TFLite Micro's general int16 path; SUB: input
// zero points 0), with broadcasting up to rank 6: TFLite's
// left-shifted dual requantisation (left shift 20 for int8, 15 for int16). ADD takes its scales
// in double, SUB in float, as TFLite Micro's Prepare does.
#include <algorithm>

#include "deploy/model/basic_lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "deploy/model/ops/data_op_helpers.h"
#include "deploy/model/quantize.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void import_add(const fb::Operator& op, Op& out, const std::string& where) {
  if (const auto* o = op.builtin_options_as_AddOptions()) {
    out.options.activation = fused_activation(o->fused_activation_function(), where);
  }
}

void import_sub(const fb::Operator& op, Op& out, const std::string& where) {
  if (const auto* o = op.builtin_options_as_SubOptions()) {
    out.options.activation = fused_activation(o->fused_activation_function(), where);
  }
}

void quantize_nonpositive(const LowerContext& c, double real, int32_t& m, int32_t& s) {
  int shift = 0;
  quantize_multiplier(real, &m, &shift);
  if (shift > 0 || shift < -31) c.fail("scales too far apart for TFLite's int8/int16 ADD/SUB requantisation");
  s = shift;
}

void lower_arithmetic(LowerContext& c, rt::Kernel kernel) {
  const bool sub = kernel == rt::Kernel::kSub;
  c.need_inputs(2);
  c.need_outputs(1);
  const Tensor& out0 = c.tensor(c.out());
  const DataType type = out0.type;
  if (!is_quantised_type(type))
    c.fail(std::string(type_name(type)) + " output: only int8 and int16 are supported", c.out());
  const Tensor& a = quantised(c, c.in(0), type);
  const Tensor& b = quantised(c, c.in(1), type);
  const Tensor& out = c.activation(c.out(), type);
  check_broadcast(c, a, b, out);
  const bool int16 = type == DataType::kInt16;
  // TFLite keeps input offsets strictly inside the int16 range.
  for (int k = 0; k < 2; ++k) {
    const int32_t zp = zp_of(k == 0 ? a : b);
    if (int16 && (zp <= -32767 || zp >= 32767)) c.fail("int16 input zero point must lie in -32766..32766", c.in(k));
    // TFLite Micro's int16 SUB asserts zero input offsets (its ADD takes any).
    if (int16 && sub && zp != 0) c.fail("int16 SUB needs input zero point 0", c.in(k));
  }
  const int left_shift = int16 ? 15 : 20;
  double real1, real2, real_out;
  if (sub) {
    const float twice_max = 2 * std::max(scale_of(a), scale_of(b));
    real1 = static_cast<double>(scale_of(a) / twice_max);
    real2 = static_cast<double>(scale_of(b) / twice_max);
    real_out = static_cast<double>(twice_max / (static_cast<float>(1 << left_shift) * scale_of(out)));
  } else {
    const double twice_max = 2 * static_cast<double>(std::max(scale_of(a), scale_of(b)));
    real1 = static_cast<double>(scale_of(a)) / twice_max;
    real2 = static_cast<double>(scale_of(b)) / twice_max;
    real_out = twice_max / ((1 << left_shift) * static_cast<double>(scale_of(out)));
  }
  rt::BasicOpParams p{};
  p.depth_multiplier = 1;
  p.input_offset = -zp_of(a);
  p.input2_offset = -zp_of(b);
  p.output_offset = zp_of(out);
  const Clamp clamp = activation_clamp(c.op().options.activation, out);
  p.act_min = clamp.min;
  p.act_max = clamp.max;
  p.extra[0] = left_shift;
  quantize_nonpositive(c, real1, p.extra[1], p.extra[2]);
  quantize_nonpositive(c, real2, p.extra[3], p.extra[4]);
  int32_t om = 0, os = 0;
  quantize_nonpositive(c, real_out, om, os);
  Lowered& l = c.emit(kernel);
  l.quant = {om, os};
  l.quant_count = 1;
  // In place only over an input of the output's own shape (a broadcast input is read repeatedly).
  if (a.shape == out.shape && b.shape == out.shape) l.in_place = Lowered::InPlace::kSameOffset;
  l.set_params(p);
}

void lower_add(LowerContext& c) { lower_arithmetic(c, rt::Kernel::kAdd); }
void lower_sub(LowerContext& c) { lower_arithmetic(c, rt::Kernel::kSub); }

}  // namespace

std::vector<OpDef> add_ops() {
  return {{0, "ADD", import_add, lower_add, nullptr}, {41, "SUB", import_sub, lower_sub, nullptr}};
}

}  // namespace tinyedge::model
