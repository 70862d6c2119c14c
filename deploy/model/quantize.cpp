#include "deploy/model/quantize.h"

#include <algorithm>
#include <cmath>

namespace tinyedge::model {

void quantize_multiplier(double real, int32_t* multiplier, int* shift) {
  if (real == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return;
  }
  const double q = std::frexp(real, shift);
  auto q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++*shift;
  }
  if (*shift < -31) {
    *shift = 0;
    q_fixed = 0;
  }
  *multiplier = static_cast<int32_t>(q_fixed);
}

ActivationRange activation_range(Activation act, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  auto quantize = [&](float f) { return zero_point + static_cast<int32_t>(std::round(f / scale)); };
  ActivationRange r{qmin, qmax};
  switch (act) {
    case Activation::kNone:
      break;
    case Activation::kRelu:
      r.min = std::max(qmin, quantize(0.0f));
      break;
    case Activation::kRelu6:
      r.min = std::max(qmin, quantize(0.0f));
      r.max = std::min(qmax, quantize(6.0f));
      break;
    case Activation::kReluN1To1:
      r.min = std::max(qmin, quantize(-1.0f));
      r.max = std::min(qmax, quantize(1.0f));
      break;
  }
  return r;
}

SoftmaxParams softmax_params(float beta, float input_scale) {
  constexpr int kScaledDiffIntegerBits = 5;
  const double max_real = static_cast<double>((int64_t{1} << 31) - 1);
  const double real = std::min<double>(static_cast<double>(beta) * static_cast<double>(input_scale) *
                                           static_cast<double>(1 << (31 - kScaledDiffIntegerBits)),
                                       max_real);
  SoftmaxParams p;
  int shift = 0;
  quantize_multiplier(real, &p.beta_multiplier, &shift);
  p.beta_left_shift = shift;
  // TFLite CalculateInputRadius(5, left_shift), negated.
  const double max_input_rescaled = 1.0 * ((1 << kScaledDiffIntegerBits) - 1) *
                                    static_cast<double>(int64_t{1} << (31 - kScaledDiffIntegerBits)) /
                                    static_cast<double>(int64_t{1} << shift);
  p.diff_min = -static_cast<int32_t>(std::floor(max_input_rescaled));
  return p;
}

AddParams add_params(float input1_scale, float input2_scale, float output_scale) {
  AddParams p;
  const double twice_max = 2 * static_cast<double>(std::max(input1_scale, input2_scale));
  const double real1 = static_cast<double>(input1_scale) / twice_max;
  const double real2 = static_cast<double>(input2_scale) / twice_max;
  const double real_out = twice_max / ((1 << p.left_shift) * static_cast<double>(output_scale));
  int s = 0;
  quantize_multiplier(real1, &p.input1_multiplier, &s);
  p.input1_shift = s;
  quantize_multiplier(real2, &p.input2_multiplier, &s);
  p.input2_shift = s;
  quantize_multiplier(real_out, &p.output_multiplier, &s);
  p.output_shift = s;
  return p;
}

}  // namespace tinyedge::model
