// Post-training int8 quantisation with TFLite's int8 scheme: per-channel symmetric int8 weights for
// convolutions, per-tensor symmetric for fully-connected weights, per-tensor asymmetric int8
// activations from calibration ranges, int32 biases at scale in_scale * w_scale, softmax output 1/256, -128.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "deploy/train/float_net.h"

namespace tinyedge::train {

struct QuantParams {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
  std::int8_t quantize(float v) const;
  float dequantize(std::int8_t q) const { return scale * (static_cast<float>(q) - static_cast<float>(zero_point)); }
};

// TFLite's choice for an asymmetric int8 range: widened to include 0, zero point nudged to an integer.
QuantParams choose_activation_params(float min, float max);

struct QuantLayer {
  Layer layer;  // geometry and options; its float weights are kept for reports
  QuantParams input, output;
  QuantParams skip_input;            // add: the second operand's (layer.skip_from's output, or the net's input)
  std::vector<std::int8_t> weights;  // same layout as layer.weights
  std::vector<float> weight_scales;  // per output channel (conv) or one (fully connected); zero points are 0
  std::vector<std::int32_t> bias;    // scale input.scale * weight_scales[c], zero point 0
  bool per_channel() const { return weight_scales.size() > 1; }
};

struct QuantNet {
  std::string arch;
  Shape3 input;
  QuantParams input_params;
  std::vector<QuantLayer> layers;
  QuantParams output_params() const { return layers.empty() ? input_params : layers.back().output; }
  std::size_t weight_bytes() const;  // int8 weights + int32 biases
};

// Per-tensor activation ranges observed over the calibration inputs. `input_params` fixes the input
// quantisation (e.g. pixels: 1/255, -128); without it the input range is calibrated too.
QuantNet quantize(const FloatNet& net, std::span<const std::vector<float>> calibration,
                  std::optional<QuantParams> input_params = std::nullopt);

std::vector<std::int8_t> quantize_input(const QuantNet& net, std::span<const float> input);

}  // namespace tinyedge::train
