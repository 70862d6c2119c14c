// LEAKY_RELU (int8, int16): two requantisations, identity (input/output scale) for x >= zero
// point and alpha * input/output scale below, both taken in float as TFLite Micro's Prepare does.
#include <cmath>

#include "deploy/model/lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "deploy/model/quantize.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

struct LeakyReluParams {  // runtime kernels/leaky_relu.cpp
  int32_t input_zero_point, output_zero_point;
  uint8_t alpha_negative, reserved[3];
};

void import(const fb::Operator& op, Op& out, const std::string&) {
  const auto* o = op.builtin_options_as_LeakyReluOptions();
  out.options.floats["alpha"] = o ? o->alpha() : 0.2f;
}

void lower(LowerContext& c) {
  c.need_inputs(1);
  c.need_outputs(1);
  const DataType type = c.tensor(c.in(0)).type == DataType::kInt16 ? DataType::kInt16 : DataType::kInt8;
  const Tensor& in = c.activation(c.in(0), type);
  const Tensor& out = c.activation(c.out(), type);
  if (in.element_count() != out.element_count()) c.fail("output must have the input's element count", c.out());
  const float alpha = c.op().options.float_or("alpha", 0.2f);
  if (!std::isfinite(alpha)) c.fail("alpha is not finite");
  const float alpha_ratio = scale_of(in) * alpha / scale_of(out);
  const float identity_ratio = scale_of(in) / scale_of(out);
  int32_t m_identity = 0, m_alpha = 0;
  int s_identity = 0, s_alpha = 0;
  quantize_multiplier(static_cast<double>(identity_ratio), &m_identity, &s_identity);
  // TFLite quantises the signed ratio; the kernel takes its magnitude and a sign flag.
  quantize_multiplier(std::fabs(static_cast<double>(alpha_ratio)), &m_alpha, &s_alpha);
  if (s_identity < -31 || s_identity > 30 || s_alpha < -31 || s_alpha > 30) {
    c.fail("scale ratio out of the requantisation range", c.out());
  }
  Lowered& l = c.emit(rt::Kernel::kLeakyRelu);
  l.quant = {m_identity, m_alpha, s_identity, s_alpha};
  l.quant_count = 2;
  l.set_params(LeakyReluParams{zp_of(in), zp_of(out), static_cast<uint8_t>(alpha_ratio < 0 ? 1 : 0), {}});
  l.in_place = Lowered::InPlace::kSameOffset;
}

}  // namespace

std::vector<OpDef> leaky_relu_ops() {
  return {{static_cast<int32_t>(rt::Kernel::kLeakyRelu), "LEAKY_RELU", import, lower, nullptr}};
}

}  // namespace tinyedge::model
