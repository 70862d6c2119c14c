#include <gtest/gtest.h>

#include <cmath>

#include "deploy/train/int8_reference.h"
#include "deploy/train/quantize.h"

namespace tinyedge::train {
namespace {

TEST(QuantParams, RangeAlwaysContainsZeroAndMapsItExactly) {
  const auto p = choose_activation_params(0.5f, 6.0f);  // widened to [0, 6]
  EXPECT_FLOAT_EQ(p.scale, 6.0f / 255.0f);
  EXPECT_EQ(p.zero_point, -128);
  EXPECT_EQ(p.quantize(0.0f), -128);
  const auto q = choose_activation_params(-3.0f, 1.0f);
  EXPECT_EQ(q.quantize(0.0f), q.zero_point);
  EXPECT_NEAR(q.dequantize(q.quantize(-3.0f)), -3.0f, q.scale);
  EXPECT_NEAR(q.dequantize(q.quantize(1.0f)), 1.0f, q.scale);
}

TEST(QuantParams, PixelsMapOntoInt8Exactly) {
  const QuantParams p{1.0f / 255.0f, -128};
  for (int pixel = 0; pixel < 256; ++pixel) EXPECT_EQ(p.quantize(pixel / 255.0f), pixel - 128) << pixel;
}

TEST(QuantizeMultiplier, MatchesTfliteDecomposition) {
  std::int32_t m;
  int shift;
  quantize_multiplier(0.5, m, shift);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(shift, 0);
  quantize_multiplier(0.25, m, shift);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(shift, -1);
  quantize_multiplier(3.0, m, shift);
  EXPECT_EQ(m, 3 << 29);
  EXPECT_EQ(shift, 2);
  // 1000 * 0.3 = 300, with TFLite's round-half-away behaviour on the fixed-point product.
  quantize_multiplier(0.3, m, shift);
  EXPECT_EQ(multiply_by_quantized_multiplier(1000, m, shift), 300);
  EXPECT_EQ(multiply_by_quantized_multiplier(-1000, m, shift), -300);
  EXPECT_EQ(multiply_by_quantized_multiplier(5, m, shift), 2);  // 1.5 rounds to 2
}

FloatNet tiny_conv_net() {
  FloatNet net;
  net.arch = "test";
  net.input = {4, 4, 1};
  Layer conv;
  conv.kind = LayerKind::kConv2D;
  conv.in = {4, 4, 1};
  conv.out = {4, 4, 2};
  conv.kernel_h = conv.kernel_w = 3;
  conv.padding = Padding::kSame;
  conv.relu = true;
  conv.weights.resize(18);
  for (int i = 0; i < 18; ++i) conv.weights[i] = (i < 9 ? 0.1f : -2.0f) * static_cast<float>((i % 5) - 2);
  conv.bias = {0.05f, 0.3f};
  net.layers.push_back(conv);
  Layer fc;
  fc.kind = LayerKind::kFullyConnected;
  fc.in = {4, 4, 2};
  fc.out = {1, 1, 3};
  fc.weights.resize(96);
  for (int i = 0; i < 96; ++i) fc.weights[i] = 0.01f * static_cast<float>((i * 7) % 11 - 5);
  fc.bias = {0.1f, -0.1f, 0.0f};
  net.layers.push_back(fc);
  return net;
}

TEST(Quantize, PerChannelConvWeightsAndPerTensorDenseWeights) {
  const FloatNet net = tiny_conv_net();
  std::vector<std::vector<float>> cal{std::vector<float>(16, 1.0f), std::vector<float>(16, -0.5f)};
  const QuantNet q = quantize(net, cal);
  ASSERT_EQ(q.layers.size(), 2u);
  const auto& conv = q.layers[0];
  ASSERT_EQ(conv.weight_scales.size(), 2u);  // one per output channel
  EXPECT_FLOAT_EQ(conv.weight_scales[0], 0.2f / 127.0f);
  EXPECT_FLOAT_EQ(conv.weight_scales[1], 4.0f / 127.0f);
  // The largest magnitude of every channel lands on +-127; nothing uses -128.
  for (int c = 0; c < 2; ++c) {
    int max_abs = 0;
    for (int i = 0; i < 9; ++i) max_abs = std::max(max_abs, std::abs(int{conv.weights[c * 9 + i]}));
    EXPECT_EQ(max_abs, 127);
  }
  EXPECT_EQ(conv.bias[1], static_cast<std::int32_t>(std::round(0.3 / (q.input_params.scale * conv.weight_scales[1]))));
  EXPECT_EQ(conv.output.zero_point, -128);  // ReLU output range starts at 0
  EXPECT_EQ(q.layers[1].weight_scales.size(), 1u);
  EXPECT_EQ(q.layers[1].input.scale, conv.output.scale);
}

TEST(Quantize, Int8ReferenceTracksFloat) {
  const FloatNet net = tiny_conv_net();
  std::vector<std::vector<float>> cal;
  for (int k = 0; k < 20; ++k) {
    std::vector<float> x(16);
    for (int i = 0; i < 16; ++i) x[i] = std::sin(0.7f * static_cast<float>(i * (k + 1)));
    cal.push_back(x);
  }
  const QuantNet q = quantize(net, cal);
  for (const auto& x : cal) {
    const auto y = forward(net, x);
    const auto qy = run_int8_reference(q, quantize_input(q, x));
    for (std::size_t i = 0; i < y.size(); ++i)
      EXPECT_NEAR(q.output_params().dequantize(qy[i]), y[i], 4 * q.output_params().scale) << i;
  }
}

TEST(Quantize, RefusesNoCalibrationAndInconsistentNets) {
  FloatNet net = tiny_conv_net();
  EXPECT_THROW(quantize(net, {}), std::runtime_error);
  net.layers[1].weights.pop_back();
  std::vector<std::vector<float>> cal{std::vector<float>(16, 1.0f)};
  EXPECT_THROW(quantize(net, cal), std::runtime_error);
  EXPECT_THROW(forward(tiny_conv_net(), std::vector<float>(15, 0.0f)), std::runtime_error);
}

}  // namespace
}  // namespace tinyedge::train
