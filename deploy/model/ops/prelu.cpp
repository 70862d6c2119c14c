// PRELU (int8, int16 input; int8 alpha, per-tensor, broadcast from the right): requantisations
// input/output scale and input*alpha/output scale, as TFLite Micro's CalculatePreluParams.
#include "deploy/model/lowering.h"
#include "deploy/model/op_table.h"
#include "deploy/model/quantize.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

struct PreluParams {  // runtime kernels/prelu.cpp
  int32_t input_offset, alpha_offset, output_offset;
};

void lower(LowerContext& c) {
  c.need_inputs(2);
  c.need_outputs(1);
  const DataType type = c.tensor(c.in(0)).type == DataType::kInt16 ? DataType::kInt16 : DataType::kInt8;
  const Tensor& in = c.activation(c.in(0), type);
  const Tensor& alpha = c.tensor(c.in(1));
  const Tensor& out = c.activation(c.out(), type);
  if (alpha.type != DataType::kInt8) c.fail("alpha must be int8", c.in(1));
  if (alpha.quant.scales.size() != 1 || alpha.quant.zero_points.size() != 1) {
    c.fail("alpha needs per-tensor quantisation", c.in(1));
  }
  if (in.shape != out.shape || in.shape.size() > 4) c.fail("output must have the input's shape (rank <= 4)", c.out());
  if (alpha.shape.size() > out.shape.size()) c.fail("alpha has more dimensions than the input", c.in(1));
  for (size_t k = 0; k < alpha.shape.size(); ++k) {
    const int32_t a = alpha.shape[alpha.shape.size() - 1 - k];
    if (a != 1 && a != out.shape[out.shape.size() - 1 - k])
      c.fail("alpha does not broadcast against the input", c.in(1));
  }
  int32_t m1 = 0, m2 = 0;
  int s1 = 0, s2 = 0;
  quantize_multiplier(static_cast<double>(scale_of(in)) / static_cast<double>(scale_of(out)), &m1, &s1);
  quantize_multiplier(
      static_cast<double>(scale_of(in)) * static_cast<double>(scale_of(alpha)) / static_cast<double>(scale_of(out)),
      &m2, &s2);
  if (s1 < -31 || s1 > 30 || s2 < -31 || s2 > 30) c.fail("scale ratio out of the requantisation range", c.out());
  Lowered& l = c.emit(rt::Kernel::kPrelu);
  l.quant = {m1, m2, s1, s2};
  l.quant_count = 2;
  l.set_params(PreluParams{-zp_of(in), -zp_of(alpha), zp_of(out)});
  l.in_place = Lowered::InPlace::kSameOffset;
}

}  // namespace

std::vector<OpDef> prelu_ops() { return {{54, "PRELU", nullptr, lower, nullptr}}; }

}  // namespace tinyedge::model
