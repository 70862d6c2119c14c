// RELU (int8, int16 with zero points 0): rescale to the output's quantisation and clamp at its
// zero; RELU6 (int8, int16): a clamp to [zero point, quantised 6.0] in the input's quantisation,
// which the output must share (TFLite Micro does not rescale it).
#include <cmath>

#include "deploy/model/lowering.h"
#include "deploy/model/op_table.h"
#include "deploy/model/quantize.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

struct ReluParams {  // runtime kernels/relu.cpp
  int32_t input_zero_point, output_zero_point, act_min, act_max;
};
struct Relu6Params {  // runtime kernels/relu6.cpp
  int32_t lower, upper;
};

const Tensor& typed_activation(LowerContext& c, int index, DataType& type) {
  const Tensor& t = c.tensor(index);
  type = t.type == DataType::kInt16 ? DataType::kInt16 : DataType::kInt8;
  return c.activation(index, type);
}

void lower_relu(LowerContext& c) {
  c.need_inputs(1);
  c.need_outputs(1);
  DataType type;
  const Tensor& in = typed_activation(c, c.in(0), type);
  const Tensor& out = c.activation(c.out(), type);
  if (in.element_count() != out.element_count()) c.fail("output must have the input's element count", c.out());
  if (type == DataType::kInt16 && zp_of(in) != 0) c.fail("int16 RELU needs input zero point 0", c.in(0));
  if (type == DataType::kInt16 && zp_of(out) != 0) c.fail("int16 RELU needs output zero point 0", c.out());
  const int32_t qmax = type == DataType::kInt16 ? 32767 : 127;
  const int32_t qmin = type == DataType::kInt16 ? -32768 : -128;
  Lowered& l = c.emit(rt::Kernel::kRelu);
  // TFLite takes the scale ratio in float, then widens it.
  int32_t multiplier = 0;
  int shift = 0;
  quantize_multiplier(static_cast<double>(scale_of(in) / scale_of(out)), &multiplier, &shift);
  if (shift < -31 || shift > 30) c.fail("input/output scale ratio out of range", c.out());
  l.quant = {multiplier, shift};
  l.quant_count = 1;
  l.set_params(ReluParams{zp_of(in), zp_of(out), std::max(qmin, zp_of(out)), qmax});
  l.in_place = Lowered::InPlace::kSameOffset;
}

void lower_relu6(LowerContext& c) {
  c.need_inputs(1);
  c.need_outputs(1);
  DataType type;
  const Tensor& in = typed_activation(c, c.in(0), type);
  const Tensor& out = c.activation(c.out(), type);
  if (in.element_count() != out.element_count()) c.fail("output must have the input's element count", c.out());
  if (scale_of(in) != scale_of(out) || zp_of(in) != zp_of(out)) {
    c.fail("RELU6 output must have the input's quantisation (TFLite Micro does not rescale)", c.out());
  }
  const int32_t qmax = type == DataType::kInt16 ? 32767 : 127;
  const int32_t six = static_cast<int32_t>(std::round(6.0f / scale_of(in))) + zp_of(in);
  Lowered& l = c.emit(rt::Kernel::kRelu6);
  l.set_params(Relu6Params{zp_of(in), std::min(qmax, six)});
  l.in_place = Lowered::InPlace::kSameOffset;
}

}  // namespace

std::vector<OpDef> relu_ops() {
  return {{19, "RELU", nullptr, lower_relu, nullptr}, {21, "RELU6", nullptr, lower_relu6, nullptr}};
}

}  // namespace tinyedge::model
