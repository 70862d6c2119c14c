// Offline parameter math with TFLite's exact formulas (double precision, std::round), so the
// multipliers and shifts in a .tem equal the ones TFLite Micro computes at Prepare time.
#pragma once
#include <cstdint>

#include "deploy/model/graph.h"

namespace tinyedge::model {

// TFLite QuantizeMultiplier: real = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31).
void quantize_multiplier(double real, int32_t* multiplier, int* shift);

struct ActivationRange {
  int32_t min = -128;
  int32_t max = 127;
};
// The fused activation's clamp in the output's quantisation, within [qmin, qmax] (the type's range).
ActivationRange activation_range(Activation act, float scale, int32_t zero_point, int32_t qmin = -128,
                                 int32_t qmax = 127);

struct SoftmaxParams {
  int32_t beta_multiplier = 0;
  int32_t beta_left_shift = 0;
  int32_t diff_min = 0;
};
SoftmaxParams softmax_params(float beta, float input_scale);

struct AddParams {
  int32_t left_shift = 20;
  int32_t input1_multiplier = 0, input1_shift = 0;
  int32_t input2_multiplier = 0, input2_shift = 0;
  int32_t output_multiplier = 0, output_shift = 0;
};
AddParams add_params(float input1_scale, float input2_scale, float output_scale);

}  // namespace tinyedge::model
