#include "deploy/train/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace tinyedge::train {
namespace {

struct Range {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  void add(std::span<const float> v) {
    for (float x : v) {
      min = std::min(min, x);
      max = std::max(max, x);
    }
  }
};

// Symmetric int8 in [-127, 127] (TFLite keeps -128 out of weights so |q| is symmetric).
void quantize_weights(std::span<const float> w, std::size_t channels, std::vector<std::int8_t>& q,
                      std::vector<float>& scales) {
  const std::size_t per = w.size() / channels;
  q.resize(w.size());
  scales.resize(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    float max_abs = 0;
    for (std::size_t i = 0; i < per; ++i) max_abs = std::max(max_abs, std::fabs(w[c * per + i]));
    // An all-zero channel still needs a positive scale for the requantisation multiplier.
    const float scale = max_abs > 0 ? max_abs / 127.0f : 1.0f / 127.0f;
    scales[c] = scale;
    for (std::size_t i = 0; i < per; ++i) {
      const float v = std::round(w[c * per + i] / scale);
      q[c * per + i] = static_cast<std::int8_t>(std::clamp(v, -127.0f, 127.0f));
    }
  }
}

// Depthwise filters keep the channel innermost ([kh][kw][c]): one scale per channel, TFLite's axis 3.
void quantize_depthwise_weights(std::span<const float> w, std::size_t channels, std::vector<std::int8_t>& q,
                                std::vector<float>& scales) {
  std::vector<float> by_channel(w.size());
  const std::size_t taps = w.size() / channels;
  for (std::size_t t = 0; t < taps; ++t)
    for (std::size_t c = 0; c < channels; ++c) by_channel[c * taps + t] = w[t * channels + c];
  std::vector<std::int8_t> qc;
  quantize_weights(by_channel, channels, qc, scales);
  q.resize(w.size());
  for (std::size_t t = 0; t < taps; ++t)
    for (std::size_t c = 0; c < channels; ++c) q[t * channels + c] = qc[c * taps + t];
}

std::vector<std::int32_t> quantize_bias(std::span<const float> bias, float input_scale, std::span<const float> scales) {
  std::vector<std::int32_t> q(bias.size());
  for (std::size_t c = 0; c < bias.size(); ++c) {
    const double s = static_cast<double>(input_scale) * scales[scales.size() == 1 ? 0 : c];
    const double v = std::round(bias[c] / s);
    q[c] = static_cast<std::int32_t>(std::clamp(v, -2147483647.0, 2147483647.0));
  }
  return q;
}

}  // namespace

std::int8_t QuantParams::quantize(float v) const {
  const float q = std::round(v / scale) + static_cast<float>(zero_point);
  return static_cast<std::int8_t>(std::clamp(q, -128.0f, 127.0f));
}

QuantParams choose_activation_params(float min, float max) {
  min = std::min(min, 0.0f);
  max = std::max(max, 0.0f);
  if (max - min < 1e-8f) max = min + 1e-8f;
  QuantParams p;
  p.scale = (max - min) / 255.0f;
  const double zp = -128.0 - static_cast<double>(min) / p.scale;
  p.zero_point = static_cast<std::int32_t>(std::clamp(std::round(zp), -128.0, 127.0));
  return p;
}

std::size_t QuantNet::weight_bytes() const {
  std::size_t n = 0;
  for (const auto& l : layers) n += l.weights.size() + 4 * l.bias.size();
  return n;
}

QuantNet quantize(const FloatNet& net, std::span<const std::vector<float>> calibration,
                  std::optional<QuantParams> input_params) {
  validate(net);
  if (calibration.empty()) throw std::runtime_error("quantisation needs at least one calibration input");
  Range input_range;
  std::vector<Range> ranges(net.layers.size());
  std::vector<std::vector<float>> acts;
  for (const auto& x : calibration) {
    input_range.add(x);
    forward(net, x, &acts);
    for (std::size_t i = 0; i < acts.size(); ++i) ranges[i].add(acts[i]);
  }

  QuantNet q;
  q.arch = net.arch;
  q.input = net.input;
  q.input_params = input_params ? *input_params : choose_activation_params(input_range.min, input_range.max);
  QuantParams current = q.input_params;
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const auto& l = net.layers[i];
    QuantLayer ql;
    ql.layer = l;
    ql.input = current;
    switch (l.kind) {
      case LayerKind::kConv2D:
        quantize_weights(l.weights, static_cast<std::size_t>(l.out.c), ql.weights, ql.weight_scales);
        ql.bias = quantize_bias(l.bias, current.scale, ql.weight_scales);
        ql.output = choose_activation_params(ranges[i].min, ranges[i].max);
        break;
      case LayerKind::kFullyConnected:
        quantize_weights(l.weights, 1, ql.weights, ql.weight_scales);
        ql.bias = quantize_bias(l.bias, current.scale, ql.weight_scales);
        ql.output = choose_activation_params(ranges[i].min, ranges[i].max);
        break;
      case LayerKind::kDepthwiseConv2D:
        quantize_depthwise_weights(l.weights, static_cast<std::size_t>(l.out.c), ql.weights, ql.weight_scales);
        ql.bias = quantize_bias(l.bias, current.scale, ql.weight_scales);
        ql.output = choose_activation_params(ranges[i].min, ranges[i].max);
        break;
      case LayerKind::kMaxPool2D:
      case LayerKind::kAveragePool2D:
        ql.output = current;  // pooling keeps its input's quantisation (TFLite requires it)
        break;
      case LayerKind::kSoftmax:
        ql.output = {1.0f / 256.0f, -128};
        break;
      case LayerKind::kAdd:
        // Each operand keeps its own scale; the runtime's ADD rescales both to the sum's range.
        ql.skip_input = l.skip_from < 0 ? q.input_params : q.layers[static_cast<std::size_t>(l.skip_from)].output;
        ql.output = choose_activation_params(ranges[i].min, ranges[i].max);
        break;
    }
    current = ql.output;
    q.layers.push_back(std::move(ql));
  }
  return q;
}

std::vector<std::int8_t> quantize_input(const QuantNet& net, std::span<const float> input) {
  std::vector<std::int8_t> q(input.size());
  for (std::size_t i = 0; i < input.size(); ++i) q[i] = net.input_params.quantize(input[i]);
  return q;
}

}  // namespace tinyedge::train
