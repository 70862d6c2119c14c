// A small hand-built graph that touches every kernel (conv SAME + ReLU, depthwise VALID stride 2
// with depth multiplier 2 and dilation, 1x1 conv, ADD, max pool, average pool, reshape, fully
// connected, softmax), with deterministic pseudo-random weights. Its compiled bytes are also
// checked in (tiny_model_tem.cpp) so that firmware-side tests and the fuzzer, which build without
// the compiler, load the very same model.
#pragma once
#include <cstdint>
#include <vector>

#include "deploy/model/graph.h"

namespace tinyedge::testing {

inline model::Graph tiny_graph() {
  using namespace tinyedge::model;
  uint32_t state = 0x12345678u;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  };
  auto weights = [&](size_t n) {
    std::vector<int8_t> w(n);
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int32_t>(next() % 255) - 127);
    return w;
  };
  auto biases = [&](size_t n) {
    std::vector<int32_t> b(n);
    for (auto& v : b) v = static_cast<int32_t>(next() % 2001) - 1000;
    return b;
  };
  Graph g;
  const int in = g.add_activation("input", {1, 6, 6, 3}, 0.05f, -3);
  // conv 3x3 SAME, 3 -> 4, per-channel, ReLU
  std::vector<float> s1 = {0.011f, 0.009f, 0.013f, 0.008f};
  std::vector<float> b1s;
  for (float s : s1) b1s.push_back(0.05f * s);
  const int w1 = g.add_int8_weights("conv1/w", {4, 3, 3, 3}, weights(4 * 27), s1, 0);
  const int bias1 = g.add_int32_bias("conv1/b", biases(4), b1s);
  const int a1 = g.add_activation("conv1", {1, 6, 6, 4}, 0.04f, -128);
  OpOptions o1;
  o1.padding = Padding::kSame;
  o1.activation = Activation::kRelu;
  g.add_op(OpKind::kConv2D, {in, w1, bias1}, a1, o1);
  // depthwise 3x3 VALID stride 2, dilation 1, multiplier 2: 6x6x4 -> 2x2x8, ReLU6
  std::vector<float> s2(8, 0.02f);
  std::vector<float> b2s(8, 0.04f * 0.02f);
  const int w2 = g.add_int8_weights("dw/w", {1, 3, 3, 8}, weights(72), s2, 3);
  const int bias2 = g.add_int32_bias("dw/b", biases(8), b2s);
  const int a2 = g.add_activation("dw", {1, 2, 2, 8}, 0.03f, -100);
  OpOptions o2;
  o2.stride_h = o2.stride_w = 2;
  o2.depth_multiplier = 2;
  o2.activation = Activation::kRelu6;
  g.add_op(OpKind::kDepthwiseConv2D, {a1, w2, bias2}, a2, o2);
  // 1x1 conv 8 -> 8 per-tensor, no activation
  const int w3 = g.add_int8_weights("pw/w", {8, 1, 1, 8}, weights(64), {0.01f}, 0);
  const int bias3 = g.add_int32_bias("pw/b", biases(8), {0.03f * 0.01f});
  const int a3 = g.add_activation("pw", {1, 2, 2, 8}, 0.05f, 7);
  g.add_op(OpKind::kConv2D, {a2, w3, bias3}, a3);
  // residual add, ReLU
  const int a4 = g.add_activation("add", {1, 2, 2, 8}, 0.06f, -128);
  OpOptions o4;
  o4.activation = Activation::kRelu;
  g.add_op(OpKind::kAdd, {a2, a3}, a4, o4);
  // max pool 2x2 SAME stride 1 -> 2x2x8, then average pool 2x2 VALID -> 1x1x8
  const int a5 = g.add_activation("maxpool", {1, 2, 2, 8}, 0.06f, -128);
  OpOptions o5;
  o5.padding = Padding::kSame;
  o5.filter_h = o5.filter_w = 2;
  g.add_op(OpKind::kMaxPool2D, {a4}, a5, o5);
  const int a6 = g.add_activation("avgpool", {1, 1, 1, 8}, 0.06f, -128);
  OpOptions o6;
  o6.filter_h = o6.filter_w = 2;
  o6.stride_h = o6.stride_w = 2;
  g.add_op(OpKind::kAveragePool2D, {a5}, a6, o6);
  const int a7 = g.add_activation("flat", {1, 8}, 0.06f, -128);
  g.add_op(OpKind::kReshape, {a6}, a7);
  const int w8 = g.add_int8_weights("fc/w", {5, 8}, weights(40), {0.02f}, 0);
  const int bias8 = g.add_int32_bias("fc/b", biases(5), {0.06f * 0.02f});
  const int a8 = g.add_activation("fc", {1, 5}, 0.1f, 3);
  g.add_op(OpKind::kFullyConnected, {a7, w8, bias8}, a8);
  const int a9 = g.add_activation("softmax", {1, 5}, 1.0f / 256, -128);
  g.add_op(OpKind::kSoftmax, {a8}, a9);
  g.inputs = {in};
  g.outputs = {a9};
  return g;
}

inline model::ModelMetadata tiny_metadata() {
  model::ModelMetadata m;
  m.name = "tiny";
  m.model_id = 7;
  m.version = 3;
  m.labels = {"a", "b", "c", "d", "e"};
  m.input_description = "6x6 RGB test pattern";
  return m;
}

}  // namespace tinyedge::testing
