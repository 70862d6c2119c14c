// Our own int8 simulation of a QuantNet with TFLite's reference arithmetic (fixed-point requantisation),
// used while training to report the int8 accuracy before a .tem exists, and in tests as a second opinion
// on the runtime. `model eval` never uses it: it runs the .tem in node_firmware/runtime.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "deploy/train/quantize.h"

namespace tinyedge::train {

// TFLite's QuantizeMultiplier: real multiplier -> Q31 mantissa and power-of-two exponent.
void quantize_multiplier(double real, std::int32_t& multiplier, int& shift);
// TFLite's MultiplyByQuantizedMultiplier (saturating rounding doubling high mul, rounding shift).
std::int32_t multiply_by_quantized_multiplier(std::int32_t x, std::int32_t multiplier, int shift);

std::vector<std::int8_t> run_int8_reference(const QuantNet& net, std::span<const std::int8_t> input);

}  // namespace tinyedge::train
