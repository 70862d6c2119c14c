// MUL, int8 or int16 (zero points 0), and DIV, int8, broadcasting up to rank 6; MINIMUM and
// MAXIMUM (the raw values compared: inputs and output of one quantisation).
#include <algorithm>

#include "deploy/model/basic_lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "deploy/model/ops/data_op_helpers.h"
#include "deploy/model/quantize.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void import_mul(const fb::Operator& op, Op& out, const std::string& where) {
  if (const auto* o = op.builtin_options_as_MulOptions()) {
    out.options.activation = fused_activation(o->fused_activation_function(), where);
  }
}

struct Operands {
  const Tensor* a;
  const Tensor* b;
  const Tensor* out;
};

Operands binary_operands(const LowerContext& c) {
  c.need_inputs(2);
  c.need_outputs(1);
  const DataType type = c.tensor(c.out()).type;
  if (!is_quantised_type(type))
    c.fail(std::string(type_name(type)) + " output: only int8 and int16 are supported", c.out());
  Operands o{&quantised(c, c.in(0), type), &quantised(c, c.in(1), type), &c.activation(c.out(), type)};
  check_broadcast(c, *o.a, *o.b, *o.out);
  return o;
}

void lower_mul(LowerContext& c) {
  const Operands o = binary_operands(c);
  const bool int16 = o.out->type == DataType::kInt16;
  if (int16 && (zp_of(*o.a) != 0 || zp_of(*o.b) != 0 || zp_of(*o.out) != 0)) c.fail("int16 needs zero points 0");
  rt::BasicOpParams p{};
  p.depth_multiplier = 1;
  p.input_offset = -zp_of(*o.a);
  p.input2_offset = -zp_of(*o.b);
  p.output_offset = zp_of(*o.out);
  const Clamp clamp = activation_clamp(c.op().options.activation, *o.out);
  p.act_min = clamp.min;
  p.act_max = clamp.max;
  const double real =
      static_cast<double>(scale_of(*o.a)) * static_cast<double>(scale_of(*o.b)) / static_cast<double>(scale_of(*o.out));
  int32_t m = 0;
  int s = 0;
  quantize_multiplier(real, &m, &s);
  if (s > 30 || s < -31) c.fail("requantisation shift out of range");
  Lowered& l = c.emit(rt::Kernel::kMul);
  l.quant = {m, s};
  l.quant_count = 1;
  if (o.a->shape == o.out->shape && o.b->shape == o.out->shape) l.in_place = Lowered::InPlace::kSameOffset;
  l.set_params(p);
}

void import_div(const fb::Operator& op, Op& out, const std::string& where) {
  if (const auto* o = op.builtin_options_as_DivOptions()) {
    out.options.activation = fused_activation(o->fused_activation_function(), where);
  }
}

void lower_div(LowerContext& c) {
  const Operands o = binary_operands(c);
  if (o.out->type != DataType::kInt8) c.fail("int16 DIV is not supported (TFLite Micro runs int8 only)", c.out());
  rt::BasicOpParams p{};
  p.depth_multiplier = 1;
  p.input_offset = -zp_of(*o.a);
  p.input2_offset = -zp_of(*o.b);
  p.output_offset = zp_of(*o.out);
  const Clamp clamp = activation_clamp(c.op().options.activation, *o.out);
  p.act_min = clamp.min;
  p.act_max = clamp.max;
  // TFLite Micro takes this ratio in float.
  const double real = static_cast<double>(scale_of(*o.a) / (scale_of(*o.b) * scale_of(*o.out)));
  int32_t m = 0;
  int s = 0;
  quantize_multiplier(real, &m, &s);
  if (s > 30 || s < -31) c.fail("requantisation shift out of range");
  Lowered& l = c.emit(rt::Kernel::kDiv);
  l.quant = {m, s};
  l.quant_count = 1;
  if (o.a->shape == o.out->shape && o.b->shape == o.out->shape) l.in_place = Lowered::InPlace::kSameOffset;
  l.set_params(p);
}

void lower_min_max(LowerContext& c, rt::Kernel kernel) {
  const Operands o = binary_operands(c);
  for (const Tensor* t : {o.a, o.b}) {
    if (scale_of(*t) != scale_of(*o.out) || zp_of(*t) != zp_of(*o.out)) {
      c.fail("inputs and output must share one quantisation (the raw values are compared)", c.out());
    }
  }
  Lowered& l = c.emit(kernel);
  if (o.a->shape == o.out->shape && o.b->shape == o.out->shape) l.in_place = Lowered::InPlace::kSameOffset;
}

void lower_minimum(LowerContext& c) { lower_min_max(c, rt::Kernel::kMinimum); }
void lower_maximum(LowerContext& c) { lower_min_max(c, rt::Kernel::kMaximum); }

}  // namespace

std::vector<OpDef> mul_ops() {
  return {{18, "MUL", import_mul, lower_mul, nullptr},
          {55, "MAXIMUM", nullptr, lower_maximum, nullptr},
          {57, "MINIMUM", nullptr, lower_minimum, nullptr},
          {42, "DIV", import_div, lower_div, nullptr}};
}

}  // namespace tinyedge::model
