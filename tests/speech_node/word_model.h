// An embedding speech model small enough to build in a test: one fully connected layer from the
// tone front-end's feature window (speech_model.h) to an 8-dimensional embedding, one axis per
// tone (a matched filter, as the tone spotter's classes). Its head ("EHD1" after the audio
// record) holds two trained words, "low" and "high"; the other tones are words it was never
// trained on: "mid" (1,400 Hz) to enroll, 1,000 Hz as unknown speech.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "deploy/model/compile.h"
#include "deploy/model/graph.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/audio/front_end.h"
#include "node_firmware/audio/front_end_record.h"
#include "node_firmware/enroll/embedding_head.h"
#include "node_firmware/enroll/prototype_math.h"
#include "tests/speech_node/speech_model.h"

namespace tinyedge::speech_test {

inline constexpr uint32_t kMidHz = 1400;
inline constexpr std::array<uint32_t, 8> kAxisHz = {300, kLowHz, 700, kUnknownHz, kMidHz, kHighHz, 2800, 3500};
inline constexpr int16_t kTrainedThresholdQ14 = 13107;  // 0.8

// `rows`: feature rows of the input window (kModelRows: 210 ms; 49: a 1 s clip, as keyword models).
// `rotate`: tone d gets axis (d + rotate) % 8, another embedding of the same words (as a retrained
// model's): prototypes made with one are wrong in the other.
inline model::Graph word_graph(const audio::AudioFrontEndConfig& config, size_t rows_in = kModelRows,
                               size_t rotate = 0) {
  using namespace tinyedge::model;
  const size_t features = config.features_per_row();
  const size_t inputs = rows_in * features;
  const size_t dim = kAxisHz.size();
  // The tones' zero-mean log-mel rows overlap (every low tone has energy low in the spectrum), so
  // the weights are their pseudo-inverse, as training would separate the words: a window of tone d
  // gives 16 on axis d and about 0 elsewhere, and the directions of the tones are orthogonal.
  std::vector<std::vector<double>> rows(dim, std::vector<double>(features));
  for (size_t d = 0; d < dim; ++d) {
    const std::vector<float> row =
        tone_row(config, kAxisHz[(d + kAxisHz.size() - rotate % kAxisHz.size()) % kAxisHz.size()]);
    double mean = 0;
    for (float v : row) mean += v / static_cast<double>(features);
    for (size_t m = 0; m < features; ++m) rows[d][m] = row[m] - mean;
  }
  // Gram matrix G = R R^T, then templates = 16 G^-1 R (Gauss-Jordan on [G | R]).
  std::vector<std::vector<double>> aug(dim, std::vector<double>(dim + features));
  for (size_t i = 0; i < dim; ++i) {
    for (size_t j = 0; j < dim; ++j)
      for (size_t m = 0; m < features; ++m) aug[i][j] += rows[i][m] * rows[j][m];
    for (size_t m = 0; m < features; ++m) aug[i][dim + m] = rows[i][m];
  }
  for (size_t c = 0; c < dim; ++c) {
    size_t pivot = c;
    for (size_t i = c + 1; i < dim; ++i)
      if (std::abs(aug[i][c]) > std::abs(aug[pivot][c])) pivot = i;
    std::swap(aug[c], aug[pivot]);
    const double p = aug[c][c];
    for (auto& v : aug[c]) v /= p;
    for (size_t i = 0; i < dim; ++i) {
      if (i == c) continue;
      const double f = aug[i][c];
      for (size_t j = 0; j < aug[i].size(); ++j) aug[i][j] -= f * aug[c][j];
    }
  }
  std::vector<std::vector<float>> templates(dim, std::vector<float>(features));
  for (size_t d = 0; d < dim; ++d)
    for (size_t m = 0; m < features; ++m) templates[d][m] = static_cast<float>(16.0 * aug[d][dim + m]);
  float max_weight = 0;
  for (const auto& t : templates)
    for (float v : t) max_weight = std::max(max_weight, std::abs(v) / static_cast<float>(rows_in));
  const float weight_scale = max_weight / 127.0f;
  std::vector<int8_t> weights(dim * inputs);
  for (size_t d = 0; d < dim; ++d)
    for (size_t r = 0; r < rows_in; ++r)
      for (size_t m = 0; m < features; ++m)
        weights[d * inputs + r * features + m] =
            static_cast<int8_t>(std::lround(templates[d][m] / static_cast<float>(rows_in) / weight_scale));
  Graph g;
  const int in =
      g.add_activation("features", {1, static_cast<int32_t>(inputs)}, config.output_scale, config.output_zero_point);
  const int w =
      g.add_int8_weights("fc/w", {static_cast<int32_t>(dim), static_cast<int32_t>(inputs)}, weights, {weight_scale}, 0);
  const int b = g.add_int32_bias("fc/b", std::vector<int32_t>(dim, 0), {config.output_scale * weight_scale});
  const int embedding = g.add_activation("embedding", {1, static_cast<int32_t>(dim)}, 48.0f / 255.0f, 0);
  g.add_op(OpKind::kFullyConnected, {in, w, b}, embedding);
  g.inputs = {in};
  g.outputs = {embedding};
  return g;
}

inline std::vector<uint8_t> record_bytes(const audio::AudioFrontEndConfig& config) {
  std::vector<uint8_t> r(audio::kFrontEndRecordBytes);
  audio::encode_front_end(config, std::span<uint8_t, audio::kFrontEndRecordBytes>(r.data(), r.size()));
  return r;
}

// The model's Q14 unit embedding of a window of `hz` (computed by the runtime, as the trainer
// computes its prototypes from the int8 model).
inline std::vector<int16_t> tone_embedding(const std::vector<uint8_t>& tem, uint32_t hz) {
  std::vector<uint64_t> arena(8192);
  app::RuntimeEngine engine(std::span(reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 8));
  if (engine.load(tem) != runtime::Status::kOk) return {};
  const audio::AudioFrontEndConfig config = speech_front_end();
  std::vector<int16_t> samples(16000);
  const Word word{hz, 0, 1000};
  make_speech_stream(samples, std::span(&word, 1), 0);
  std::vector<uint64_t> workspace(audio::workspace_bytes(config) / 8 + 1);
  audio::AudioFrontEnd front_end;
  if (front_end.configure(config, std::span(reinterpret_cast<uint8_t*>(workspace.data()), workspace.size() * 8)) !=
      audio::AudioStatus::kOk)
    return {};
  std::vector<int8_t> features(config.rows_for(samples.size()) * config.features_per_row());
  size_t rows = 0;
  if (audio::compute_clip(front_end, samples, features, rows) != audio::AudioStatus::kOk ||
      rows * config.features_per_row() < engine.input().size())
    return {};
  const std::span<int8_t> input = engine.input();
  std::copy_n(features.end() - static_cast<std::ptrdiff_t>(input.size()), input.size(), input.begin());
  if (!engine.invoke()) return {};
  std::vector<int32_t> centred;
  for (int8_t q : engine.output()) centred.push_back(q - engine.output_zero_point());
  std::vector<int16_t> unit(centred.size());
  if (!enroll::normalize_q14(centred, unit)) return {};
  return unit;
}

// An enrollment recording, "say the word `times` times": 400 ms utterances of `hz` 1.5 s apart
// from 0.5 s, over the stream's hiss (host tests, and the M4 enrolling image's recording in flash).
inline std::vector<int16_t> enrollment_recording(uint32_t hz, int times) {
  std::vector<Word> words;
  for (int i = 0; i < times; ++i) words.push_back({hz, 500 + 1500u * static_cast<uint32_t>(i), 400});
  std::vector<int16_t> samples((1000 + 1500u * static_cast<uint32_t>(times)) * 16);
  make_speech_stream(samples, words);
  return samples;
}

// The embedding .tem: labels "low", "high", the audio record followed by their head. `head` false
// leaves the head out (an embedding model without prototypes: what the trainer exports first).
inline std::vector<uint8_t> word_model_tem(uint32_t version = 1, bool head = true, size_t rows = kModelRows,
                                           size_t rotate = 0) {
  const audio::AudioFrontEndConfig config = speech_front_end();
  model::ModelMetadata meta;
  meta.name = "tone-words";
  meta.model_id = 16;
  meta.version = version;
  meta.labels = {"low", "high"};
  meta.input_description = "10x16 log-mel";
  meta.front_end = record_bytes(config);
  const model::Graph graph = word_graph(config, rows, rotate);
  if (!head) return model::compile(graph, meta).tem;
  const std::vector<uint8_t> bare = model::compile(graph, meta).tem;
  std::vector<int16_t> prototypes;
  for (uint32_t hz : {kLowHz, kHighHz}) {
    const std::vector<int16_t> unit = tone_embedding(bare, hz);
    prototypes.insert(prototypes.end(), unit.begin(), unit.end());
  }
  const std::vector<int16_t> thresholds(2, kTrainedThresholdQ14);
  std::vector<uint8_t> record(enroll::embedding_head_bytes(static_cast<uint16_t>(kAxisHz.size()), 2));
  if (prototypes.size() != 2 * kAxisHz.size() ||
      !enroll::encode_embedding_head(static_cast<uint16_t>(kAxisHz.size()), thresholds, prototypes, record))
    return {};
  meta.front_end.insert(meta.front_end.end(), record.begin(), record.end());
  return model::compile(graph, meta).tem;
}

}  // namespace tinyedge::speech_test
