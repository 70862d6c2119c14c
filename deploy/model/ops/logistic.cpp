// LOGISTIC (output 1/256, zero point -128) and TANH (output 1/128, zero point 0), int8: the input
// rescaled into Q4.27 by frexp(input_scale * 2^27) and saturated beyond TFLite's input radius.
// int16 (TFLite's lookup-table kernels) is refused.
#include <cmath>

#include "deploy/model/lowering.h"
#include "deploy/model/op_table.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

struct SigmoidParams {  // runtime kernels/sigmoid.h
  int32_t input_zero_point, input_range_radius, input_multiplier, input_left_shift;
};

void lower(LowerContext& c) {
  c.need_inputs(1);
  c.need_outputs(1);
  const bool logistic = c.op().kind == static_cast<OpKind>(14);
  const Tensor& in = c.activation(c.in(0));
  const Tensor& out = c.activation(c.out());
  if (in.element_count() != out.element_count()) c.fail("output must have the input's element count", c.out());
  const float want_scale = logistic ? 1.0f / 256 : 1.0f / 128;
  const int32_t want_zp = logistic ? -128 : 0;
  if (zp_of(out) != want_zp || std::fabs(scale_of(out) - want_scale) > 1e-8f) {
    c.fail(std::string("int8 ") + (logistic ? "LOGISTIC output must have scale 1/256 and zero point -128"
                                            : "TANH output must have scale 1/128 and zero point 0"),
           c.out());
  }
  constexpr int kInputIntegerBits = 4;
  const double real = static_cast<double>(scale_of(in)) * static_cast<double>(1 << (31 - kInputIntegerBits));
  int shift = 0;
  const double q = std::frexp(real, &shift);
  const auto multiplier = static_cast<int64_t>(std::round(q * static_cast<double>(1LL << 31)));
  if (multiplier > 0x7FFFFFFF || shift < -31 || shift > 30) c.fail("input scale out of range", c.in(0));
  const double radius =
      std::floor(((1 << kInputIntegerBits) - 1) * static_cast<double>(1LL << (31 - kInputIntegerBits)) /
                 static_cast<double>(1LL << shift));
  Lowered& l = c.emit(logistic ? rt::Kernel::kLogistic : rt::Kernel::kTanh);
  l.set_params(SigmoidParams{zp_of(in), static_cast<int32_t>(std::min(radius, 2147483647.0)),
                             static_cast<int32_t>(multiplier), shift});
  l.in_place = Lowered::InPlace::kSameOffset;
}

}  // namespace

std::vector<OpDef> logistic_ops() {
  return {{14, "LOGISTIC", nullptr, lower, nullptr}, {28, "TANH", nullptr, lower, nullptr}};
}

}  // namespace tinyedge::model
