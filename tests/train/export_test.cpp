// The .tem we export must compute exactly what our TFLite-semantics reference computes: this holds
// the quantisation choices (per-channel conv, per-tensor dense, int32 bias scales, fused ReLU,
// SAME padding with an odd leftover, max pool) to the project's runtime bit for bit.
#include <gtest/gtest.h>

#include <cmath>

#include "deploy/train/int8_reference.h"
#include "deploy/train/metrics.h"
#include "deploy/train/runtime_eval.h"
#include "deploy/train/tem_export.h"
#include "deploy/train/text_eval.h"

namespace tinyedge::train {
namespace {

FloatNet conv_pool_dense(bool with_softmax) {
  FloatNet net;
  net.arch = "export-test";
  net.input = {8, 8, 1};
  Layer c1;
  c1.kind = LayerKind::kConv2D;
  c1.in = {8, 8, 1};
  c1.kernel_h = c1.kernel_w = 5;
  c1.stride_h = c1.stride_w = 2;
  c1.padding = Padding::kSame;  // 8 -> 4 with pad 1 before, 2 after
  c1.out = {4, 4, 3};
  c1.relu = true;
  for (int i = 0; i < 75; ++i) c1.weights.push_back(0.05f * static_cast<float>((i * 13) % 9 - 4) * (1 + i / 25));
  c1.bias = {0.1f, -0.2f, 0.05f};
  net.layers.push_back(c1);
  Layer c2 = c1;
  c2.in = {4, 4, 3};
  c2.kernel_h = c2.kernel_w = 3;
  c2.stride_h = c2.stride_w = 1;
  c2.out = {4, 4, 4};
  c2.weights.clear();
  for (int i = 0; i < 108; ++i) c2.weights.push_back(0.03f * static_cast<float>((i * 7) % 11 - 5));
  c2.bias = {0.0f, 0.1f, -0.1f, 0.2f};
  net.layers.push_back(c2);
  Layer pool;
  pool.kind = LayerKind::kMaxPool2D;
  pool.in = {4, 4, 4};
  pool.out = {2, 2, 4};
  pool.kernel_h = pool.kernel_w = pool.stride_h = pool.stride_w = 2;
  net.layers.push_back(pool);
  Layer fc;
  fc.kind = LayerKind::kFullyConnected;
  fc.in = {2, 2, 4};
  fc.out = {1, 1, 5};
  for (int i = 0; i < 80; ++i) fc.weights.push_back(0.04f * static_cast<float>((i * 5) % 13 - 6));
  fc.bias = {0.1f, 0.0f, -0.1f, 0.2f, 0.05f};
  net.layers.push_back(fc);
  if (with_softmax) {
    Layer sm;
    sm.kind = LayerKind::kSoftmax;
    sm.in = sm.out = {1, 1, 5};
    net.layers.push_back(sm);
  }
  return net;
}

std::vector<std::vector<float>> inputs(int n) {
  std::vector<std::vector<float>> v;
  for (int k = 0; k < n; ++k) {
    std::vector<float> x(64);
    for (int i = 0; i < 64; ++i) x[i] = 0.5f + 0.5f * std::sin(0.37f * static_cast<float>(i * (k + 3)) + k);
    v.push_back(x);
  }
  return v;
}

model::ModelMetadata meta() {
  model::ModelMetadata m;
  m.name = "export-test";
  m.model_id = 7;
  m.labels = {"a", "b", "c", "d", "e"};
  m.input_description = "8x8 test pattern";
  return m;
}

TEST(Export, RuntimeMatchesReferenceBitForBit) {
  const auto cal = inputs(30);
  const QuantNet q = quantize(conv_pool_dense(false), cal, QuantParams{1.0f / 255.0f, -128});
  const auto compiled = export_tem(q, meta());
  TemRunner runner(compiled.tem);
  EXPECT_EQ(runner.model().name(), "export-test");
  EXPECT_EQ(runner.model().model_id(), 7u);
  EXPECT_EQ(runner.model().label(4), "e");
  EXPECT_GT(compiled.arena_bytes, 0u);
  for (const auto& x : inputs(40)) {
    const auto in = quantize_input(q, x);
    const auto expect = run_int8_reference(q, in);
    const auto got = runner.run(in);
    ASSERT_EQ(got.size(), expect.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expect[i]) << "output " << i;
  }
}

TEST(Export, SoftmaxOutputIsOneOver256AndAgreesWithinOneStep) {
  const auto cal = inputs(30);
  const QuantNet q = quantize(conv_pool_dense(true), cal, QuantParams{1.0f / 255.0f, -128});
  EXPECT_FLOAT_EQ(q.output_params().scale, 1.0f / 256.0f);
  EXPECT_EQ(q.output_params().zero_point, -128);
  const auto compiled = export_tem(q, meta());
  TemRunner runner(compiled.tem);
  EXPECT_FLOAT_EQ(runner.model().output_info().scale, 1.0f / 256.0f);
  for (const auto& x : inputs(40)) {
    const auto in = quantize_input(q, x);
    const auto expect = run_int8_reference(q, in);
    const auto got = runner.run(in);
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_LE(std::abs(got[i] - expect[i]), 1) << "output " << i;
  }
}

// A residual block: conv1 (ReLU) -> conv2 -> add(conv2, conv1) with ReLU, the two operands
// quantised at different scales (conv2's weights are 4x larger), then pool and dense.
FloatNet residual_block() {
  FloatNet net = conv_pool_dense(false);
  Layer c2 = net.layers[1];
  c2.in = c2.out = {4, 4, 3};
  c2.relu = false;
  c2.weights.clear();
  for (int i = 0; i < 81; ++i) c2.weights.push_back(0.12f * static_cast<float>((i * 7) % 11 - 5));
  c2.bias = {0.3f, -0.4f, 0.1f};
  Layer add;
  add.kind = LayerKind::kAdd;
  add.in = add.out = {4, 4, 3};
  add.skip_from = 0;
  add.relu = true;
  net.layers[1] = c2;
  net.layers.insert(net.layers.begin() + 2, add);
  net.layers[3].in = {4, 4, 3};
  net.layers[3].out = {2, 2, 3};
  net.layers[4].in = {2, 2, 3};
  net.layers[4].weights.resize(60);
  return net;
}

TEST(Export, ResidualAddOfTwoScalesMatchesReferenceBitForBit) {
  const FloatNet net = residual_block();
  const auto cal = inputs(30);
  const QuantNet q = quantize(net, cal, QuantParams{1.0f / 255.0f, -128});
  ASSERT_EQ(q.layers[2].layer.kind, LayerKind::kAdd);
  EXPECT_EQ(q.layers[2].skip_input.scale, q.layers[0].output.scale);
  EXPECT_GT(q.layers[1].output.scale, 1.5f * q.layers[0].output.scale) << "the operands should differ in scale";
  const auto compiled = export_tem(q, meta());
  TemRunner runner(compiled.tem);
  const auto out = runner.model().output_info();
  double worst = 0, range = 0;
  for (const auto& x : inputs(40)) {
    const auto in = quantize_input(q, x);
    const auto expect = run_int8_reference(q, in);
    const auto got = runner.run(in);
    ASSERT_EQ(got.size(), expect.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expect[i]) << "output " << i;
    const auto f = forward(net, x);
    for (std::size_t i = 0; i < f.size(); ++i) {
      worst = std::max(worst, static_cast<double>(std::fabs(out.scale * (got[i] - out.zero_point) - f[i])));
      range = std::max(range, static_cast<double>(std::fabs(f[i])));
    }
  }
  // Four int8 layers: a few output steps (range / 256) each; a lost operand would be far more.
  EXPECT_LT(worst, 0.08 * range) << "largest |int8 - float| output " << worst << " of a range " << range;
}

// The keyword net's layer kinds: a strided conv with a rectangular kernel and unequal strides,
// depthwise 3x3 (per-channel scales along axis 3), pointwise conv, global average pooling.
FloatNet ds_cnn_like() {
  FloatNet net;
  net.arch = "ds-cnn-test";
  net.input = {9, 6, 1};
  Layer c0;
  c0.kind = LayerKind::kConv2D;
  c0.in = {9, 6, 1};
  c0.kernel_h = 4;
  c0.kernel_w = 2;
  c0.stride_h = 2;
  c0.stride_w = 3;
  c0.padding = Padding::kSame;
  c0.out = {5, 2, 4};
  c0.relu = true;
  for (int i = 0; i < 32; ++i) c0.weights.push_back(0.07f * static_cast<float>((i * 11) % 9 - 4));
  c0.bias = {0.1f, -0.1f, 0.2f, 0.0f};
  net.layers.push_back(c0);
  Layer dw;
  dw.kind = LayerKind::kDepthwiseConv2D;
  dw.in = dw.out = {5, 2, 4};
  dw.kernel_h = dw.kernel_w = 3;
  dw.padding = Padding::kSame;
  dw.relu = true;
  // Channel c's taps scaled by (c + 1): per-channel scales that differ 4x.
  for (int t = 0; t < 9; ++t)
    for (int c = 0; c < 4; ++c) dw.weights.push_back(0.05f * static_cast<float>((c + 1) * ((t * 5 + c) % 7 - 3)));
  dw.bias = {0.05f, 0.0f, -0.05f, 0.1f};
  net.layers.push_back(dw);
  Layer pw = c0;
  pw.in = pw.out = {5, 2, 4};
  pw.kernel_h = pw.kernel_w = 1;
  pw.stride_h = pw.stride_w = 1;
  pw.weights.clear();
  for (int i = 0; i < 16; ++i) pw.weights.push_back(0.1f * static_cast<float>((i * 3) % 7 - 3));
  net.layers.push_back(pw);
  Layer pool;
  pool.kind = LayerKind::kAveragePool2D;
  pool.in = {5, 2, 4};
  pool.out = {1, 1, 4};
  pool.kernel_h = pool.stride_h = 5;
  pool.kernel_w = pool.stride_w = 2;
  net.layers.push_back(pool);
  Layer fc;
  fc.kind = LayerKind::kFullyConnected;
  fc.in = {1, 1, 4};
  fc.out = {1, 1, 3};
  for (int i = 0; i < 12; ++i) fc.weights.push_back(0.2f * static_cast<float>(i % 5 - 2));
  fc.bias = {0.0f, 0.1f, -0.1f};
  net.layers.push_back(fc);
  return net;
}

TEST(Export, DepthwiseAndAveragePoolMatchTheReferenceBitForBit) {
  std::vector<std::vector<float>> cal;
  for (int k = 0; k < 40; ++k) {
    std::vector<float> x(54);
    for (int i = 0; i < 54; ++i) x[i] = 3.0f * std::sin(0.41f * static_cast<float>(i * (k + 2)) + 0.3f * k);
    cal.push_back(x);
  }
  const FloatNet net = ds_cnn_like();
  const QuantNet q = quantize(net, cal);
  ASSERT_EQ(q.layers[1].weight_scales.size(), 4u);  // depthwise: one scale per channel
  EXPECT_NEAR(q.layers[1].weight_scales[3] / q.layers[1].weight_scales[0], 4.0, 0.01);
  EXPECT_EQ(q.layers[3].output.scale, q.layers[3].input.scale);  // pooling keeps its quantisation
  const auto compiled = export_tem(q, meta());
  TemRunner runner(compiled.tem);
  int float_agrees = 0;
  for (const auto& x : cal) {
    const auto in = quantize_input(q, x);
    const auto expect = run_int8_reference(q, in);
    const auto got = runner.run(in);
    ASSERT_EQ(got.size(), expect.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expect[i]) << "output " << i;
    // And the int8 net still computes the float one: same arg-max on most inputs.
    const auto f = forward(net, x);
    float_agrees += arg_max<float>(f) == arg_max<std::int8_t>(got);
  }
  EXPECT_GE(float_agrees, 36) << "int8 arg-max agrees with float on only " << float_agrees << " of 40 inputs";
}

TEST(Export, CorruptBlobIsRefusedWithTheRuntimeStatus) {
  const QuantNet q = quantize(conv_pool_dense(false), inputs(5), QuantParams{1.0f / 255.0f, -128});
  auto blob = export_tem(q, meta()).tem;
  blob.resize(blob.size() / 2);
  try {
    TemRunner runner(blob);
    FAIL() << "a truncated model loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not a valid .tem model"), std::string::npos) << e.what();
  }
}

// --ram/--flash: the largest n-gram MLP whose arena + counts and .tem fit, and a clear refusal
// (with the smallest's needs) when nothing does.
TEST(TrainTextBudget, PicksTheLargestThatFitsAndSaysWhatTheSmallestNeeds) {
  text::TextFrontEndConfig fe;
  const std::vector<std::string> labels{"computers", "food", "sports"};
  const TextBudget node{16 * 1024, 64 * 1024};
  const auto pick = pick_text_net(fe, std::nullopt, std::nullopt, node, labels);
  EXPECT_LE(pick.ram_bytes(), node.ram_bytes);
  EXPECT_LE(pick.tem_bytes, node.flash_bytes);
  // Twice the buckets or twice the hidden units of the pick no longer fit.
  for (const auto& [b, h] : {std::pair{pick.buckets * 2, pick.hidden}, std::pair{pick.buckets, pick.hidden * 2}}) {
    if (b > 4096 || h > 64) continue;
    auto bigger_fe = fe;
    bigger_fe.buckets = b;
    const auto bigger = measure_text_net(bigger_fe, h, labels);
    EXPECT_TRUE(bigger.ram_bytes() > node.ram_bytes || bigger.tem_bytes > node.flash_bytes)
        << b << " buckets, " << h << " hidden fit too: RAM " << bigger.ram_bytes() << ", .tem " << bigger.tem_bytes;
  }
  const auto fixed = pick_text_net(fe, 512u, 8, node, labels);
  EXPECT_EQ(fixed.buckets, 512u);
  EXPECT_EQ(fixed.hidden, 8);
  try {
    (void)pick_text_net(fe, std::nullopt, std::nullopt, {512, 64 * 1024}, labels);
    ADD_FAILURE() << "a 512-byte RAM budget was met";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no text model fits RAM 512 B and flash 65536 B: the smallest tried (256 "
                                         "buckets, 8 hidden) needs"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tinyedge::train
