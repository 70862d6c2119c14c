// The speech test model: a keyword "spotter" for the tones of speech_signal.h, small enough to
// build in a test. One fully connected layer over the feature window (rows x mel channels) and a
// softmax over _silence_, _unknown_, low, high. Each tone's weights are the front-end's own log-mel
// row for that tone with its mean removed (a matched filter): a flat spectrum (silence, hiss)
// scores zero on every tone and the _silence_ bias wins; a tone scores highest on its own class.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "deploy/model/compile.h"
#include "deploy/model/graph.h"
#include "node_firmware/audio/front_end.h"
#include "node_firmware/audio/front_end_record.h"
#include "tests/speech_node/speech_signal.h"

namespace tinyedge::speech_test {

inline constexpr uint32_t kModelRows = 10;  // 10 strides of 20 ms: a 210 ms window

inline audio::AudioFrontEndConfig speech_front_end() {
  audio::AudioFrontEndConfig c;
  c.sample_rate_hz = 16000;
  c.window_ms = 30;
  c.stride_ms = 20;
  c.mel_channels = 16;
  c.mfcc_coefficients = 0;
  c.lower_hz = 20;
  c.upper_hz = 4000;
  c.noise_reduction = 0;
  c.output_scale = 0.25f;  // log-mel 0..63.75 (ln units)
  c.output_zero_point = -128;
  return c;
}

// The front-end's steady-state feature row for a tone, in real units.
inline std::vector<float> tone_row(const audio::AudioFrontEndConfig& config, uint32_t hz) {
  std::vector<int16_t> samples(16000);
  const Word word{hz, 0, 1000};
  make_speech_stream(samples, std::span(&word, 1), 0);
  std::vector<uint64_t> workspace(audio::workspace_bytes(config) / 8 + 1);
  audio::AudioFrontEnd front_end;
  if (front_end.configure(config, std::span(reinterpret_cast<uint8_t*>(workspace.data()), workspace.size() * 8)) !=
      audio::AudioStatus::kOk) {
    return {};
  }
  std::vector<int8_t> features(config.rows_for(samples.size()) * config.features_per_row());
  size_t rows = 0;
  if (audio::compute_clip(front_end, samples, features, rows) != audio::AudioStatus::kOk || rows == 0) return {};
  std::vector<float> row(config.features_per_row());
  for (size_t m = 0; m < row.size(); ++m) {
    row[m] = config.output_scale * static_cast<float>(features[(rows - 1) * row.size() + m] - config.output_zero_point);
  }
  return row;
}

inline model::Graph speech_graph(const audio::AudioFrontEndConfig& config) {
  using namespace tinyedge::model;
  const size_t features = config.features_per_row();
  const size_t inputs = kModelRows * features;
  // Class templates: zero-mean tone rows scaled so a whole window of the tone scores about +16.
  std::vector<std::vector<float>> templates(4, std::vector<float>(features, 0.0f));
  const uint32_t tones[4] = {0, kUnknownHz, kLowHz, kHighHz};
  for (int c = 1; c < 4; ++c) {
    std::vector<float> row = tone_row(config, tones[c]);
    float mean = 0;
    for (float v : row) mean += v / static_cast<float>(features);
    float energy = 0;
    for (size_t m = 0; m < features; ++m) {
      templates[c][m] = row[m] - mean;
      energy += templates[c][m] * templates[c][m];
    }
    for (auto& v : templates[c]) v *= 16.0f / energy;
  }
  float max_weight = 0;
  for (const auto& t : templates) {
    for (float v : t) max_weight = std::max(max_weight, std::abs(v) / kModelRows);
  }
  const float weight_scale = max_weight / 127.0f;
  std::vector<int8_t> weights(4 * inputs);
  for (size_t c = 0; c < 4; ++c) {
    for (size_t r = 0; r < kModelRows; ++r) {
      for (size_t m = 0; m < features; ++m) {
        weights[c * inputs + r * features + m] =
            static_cast<int8_t>(std::lround(templates[c][m] / kModelRows / weight_scale));
      }
    }
  }
  const float input_scale = config.output_scale;
  // _silence_ has no template, only a bias: it wins whenever no tone stands out.
  const float biases_real[4] = {6.0f, 0.0f, 0.0f, 0.0f};
  std::vector<int32_t> biases(4);
  for (int c = 0; c < 4; ++c)
    biases[c] = static_cast<int32_t>(std::lround(biases_real[c] / (input_scale * weight_scale)));

  Graph g;
  const int in = g.add_activation("features", {1, static_cast<int32_t>(inputs)}, input_scale, config.output_zero_point);
  const int w = g.add_int8_weights("fc/w", {4, static_cast<int32_t>(inputs)}, weights, {weight_scale}, 0);
  const int b = g.add_int32_bias("fc/b", biases, {input_scale * weight_scale});
  const int logits = g.add_activation("logits", {1, 4}, 48.0f / 255.0f, 0);
  g.add_op(OpKind::kFullyConnected, {in, w, b}, logits);
  const int probs = g.add_activation("probs", {1, 4}, 1.0f / 256, -128);
  g.add_op(OpKind::kSoftmax, {logits}, probs);
  g.inputs = {in};
  g.outputs = {probs};
  return g;
}

// The compiled .tem, carrying its labels and the front-end record (`front_end` may differ from
// the config the weights were made with, to build models a node must refuse).
inline std::vector<uint8_t> speech_model_tem(const audio::AudioFrontEndConfig& weights_config = speech_front_end(),
                                             uint32_t version = 1, std::vector<uint8_t> front_end = {}) {
  model::ModelMetadata meta;
  meta.name = "tones";
  meta.model_id = 15;
  meta.version = version;
  meta.labels = {"_silence_", "_unknown_", "low", "high"};
  meta.input_description = "10x16 log-mel";
  if (front_end.empty()) {
    front_end.resize(audio::kFrontEndRecordBytes);
    audio::encode_front_end(weights_config,
                            std::span<uint8_t, audio::kFrontEndRecordBytes>(front_end.data(), front_end.size()));
  }
  meta.front_end = front_end;
  return model::compile(speech_graph(weights_config), meta).tem;
}

}  // namespace tinyedge::speech_test
