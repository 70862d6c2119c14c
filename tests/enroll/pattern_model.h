// An image embedding model small enough to build in a test: 8x8 gray frames, one fully connected
// layer onto 8 orthogonal +-1 patterns (two-dimensional Walsh functions: stripes, checks, blocks,
// halves), one embedding axis per pattern, as a trained embedding separates its classes. Its head
// ("EHD1" alone in the front-end region, as `tinyedge train image --embedding` exports) holds two
// trained classes, "stripes" and "checks"; the other patterns are classes it never saw, to enroll
// ("blocks") or to stay unknown ("halves").
#pragma once
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "deploy/model/compile.h"
#include "deploy/model/graph.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/enroll/embedding_head.h"
#include "node_firmware/enroll/prototype_math.h"

namespace tinyedge::enroll::testing {

inline constexpr uint32_t kSide = 8;
// Walsh pattern (u, v): the sign at pixel (x, y) is the parity of the bits x shares with u and y with v.
inline constexpr std::array<std::array<uint32_t, 2>, 8> kPatterns = {
    {{1, 0}, {1, 1}, {0, 1}, {2, 2}, {4, 4}, {4, 0}, {3, 5}, {6, 3}}};
inline constexpr size_t kStripes = 0, kChecks = 1, kBlocks = 4, kHalves = 5;

inline int walsh_sign(size_t pattern, uint32_t x, uint32_t y) {
  const auto [u, v] = kPatterns[pattern];
  return (std::popcount(u & x) + std::popcount(v & y)) % 2 == 0 ? 1 : -1;
}

// A camera frame of `pattern`: 128 +- 90 per pixel, plus uniform noise of +-`noise` (seeded).
inline std::vector<uint8_t> pattern_frame(size_t pattern, uint32_t seed = 0, int noise = 0) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> n(-noise, noise);
  std::vector<uint8_t> pixels(kSide * kSide);
  for (uint32_t y = 0; y < kSide; ++y)
    for (uint32_t x = 0; x < kSide; ++x) {
      const int p = 128 + 90 * walsh_sign(pattern, x, y) + (noise > 0 ? n(rng) : 0);
      pixels[y * kSide + x] = static_cast<uint8_t>(p < 0 ? 0 : (p > 255 ? 255 : p));
    }
  return pixels;
}

// `rotate`: axis d matches pattern (d + rotate) % 8, another embedding of the same classes (as a
// retrained model's): prototypes made with one are wrong in the other.
inline model::Graph pattern_graph(size_t rotate = 0) {
  using namespace tinyedge::model;
  const int32_t inputs = kSide * kSide;
  const int32_t dim = kPatterns.size();
  std::vector<int8_t> weights(static_cast<size_t>(dim * inputs));
  for (int32_t d = 0; d < dim; ++d)
    for (uint32_t y = 0; y < kSide; ++y)
      for (uint32_t x = 0; x < kSide; ++x)
        weights[static_cast<size_t>(d * inputs) + y * kSide + x] =
            static_cast<int8_t>(127 * walsh_sign((static_cast<size_t>(d) + rotate) % kPatterns.size(), x, y));
  // Input pixel / 255 (the camera's quantisation); weights +-1; a matched frame gives about 22.6.
  const float in_scale = 1.0f / 255.0f, w_scale = 1.0f / 127.0f;
  Graph g;
  const int image = g.add_activation("image", {1, kSide, kSide, 1}, in_scale, -128);
  const int flat = g.add_activation("flat", {1, inputs}, in_scale, -128);
  g.add_op(OpKind::kReshape, {image}, flat);
  const int w = g.add_int8_weights("fc/w", {dim, inputs}, weights, {w_scale}, 0);
  const int b = g.add_int32_bias("fc/b", std::vector<int32_t>(static_cast<size_t>(dim), 0), {in_scale * w_scale});
  const int embedding = g.add_activation("embedding", {1, dim}, 0.25f, 0);
  g.add_op(OpKind::kFullyConnected, {flat, w, b}, embedding);
  g.inputs = {image};
  g.outputs = {embedding};
  return g;
}

// The model's Q14 unit embedding of a clean frame of `pattern` (computed by the runtime, as the
// trainer computes its prototypes from the int8 model).
inline std::vector<int16_t> pattern_embedding(const std::vector<uint8_t>& tem, size_t pattern) {
  std::vector<uint64_t> arena(1024);
  app::RuntimeEngine engine(std::span(reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 8));
  if (engine.load(tem) != runtime::Status::kOk) return {};
  const std::vector<uint8_t> pixels = pattern_frame(pattern);
  for (size_t i = 0; i < pixels.size(); ++i) engine.input()[i] = static_cast<int8_t>(pixels[i] - 128);
  if (!engine.invoke()) return {};
  std::vector<int32_t> centred;
  for (int8_t q : engine.output()) centred.push_back(q - engine.output_zero_point());
  std::vector<int16_t> unit(centred.size());
  if (!normalize_q14(centred, unit)) return {};
  return unit;
}

// The embedding .tem: labels "stripes", "checks" and their head (threshold cosine 0.8).
inline std::vector<uint8_t> pattern_model_tem(uint32_t version = 1, size_t rotate = 0) {
  model::ModelMetadata meta;
  meta.name = "patterns";
  meta.model_id = 17;
  meta.version = version;
  meta.labels = {"stripes", "checks"};
  meta.input_description = "8x8 gray";
  const model::Graph graph = pattern_graph(rotate);
  const std::vector<uint8_t> bare = model::compile(graph, meta).tem;
  std::vector<int16_t> prototypes;
  for (size_t p : {kStripes, kChecks}) {
    const std::vector<int16_t> unit = pattern_embedding(bare, p);
    prototypes.insert(prototypes.end(), unit.begin(), unit.end());
  }
  const std::vector<int16_t> thresholds(2, static_cast<int16_t>(0.8 * kQ14One));
  meta.front_end.resize(embedding_head_bytes(kPatterns.size(), 2));
  if (prototypes.size() != 2 * kPatterns.size() ||
      !encode_embedding_head(kPatterns.size(), thresholds, prototypes, meta.front_end))
    return {};
  return model::compile(graph, meta).tem;
}

}  // namespace tinyedge::enroll::testing
