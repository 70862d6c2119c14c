#include "node_firmware/app/keyword_detector.h"

#include <cstring>

#include "node_firmware/app/top_k.h"

namespace tinyedge::app {
namespace {

constexpr size_t round8(size_t n) { return (n + 7) & ~size_t{7}; }

// Inferences in the smoothing window: at least one, the window divided by the inference period.
size_t history_length(const audio::AudioFrontEndConfig& front_end, const DetectorConfig& config) {
  const uint32_t period_ms = front_end.stride_ms * (config.infer_every_strides == 0 ? 1 : config.infer_every_strides);
  const size_t n = period_ms == 0 ? 1 : config.smoothing_ms / period_ms;
  return n == 0 ? 1 : n;
}

}  // namespace

const char* to_string(DetectorStatus status) {
  switch (status) {
    case DetectorStatus::kOk:
      return "ok";
    case DetectorStatus::kFrontEndRefused:
      return "the audio front-end refused its config";
    case DetectorStatus::kModelNotReady:
      return "no model loaded";
    case DetectorStatus::kInputNotWholeRows:
      return "model input is not a whole number of front-end feature rows";
    case DetectorStatus::kTooManyClasses:
      return "model has more output classes than the detector tracks";
    case DetectorStatus::kBadDetectorConfig:
      return "detector config invalid (no inference period, or smoothing window too long)";
    case DetectorStatus::kWorkspaceTooSmall:
      return "detector workspace too small or misaligned";
    case DetectorStatus::kNotConfigured:
      return "detector not configured";
    case DetectorStatus::kInferenceFailed:
      return "inference failed";
  }
  return "unknown detector status";
}

size_t KeywordDetector::workspace_bytes(const audio::AudioFrontEndConfig& front_end, size_t input_elements,
                                        size_t classes) {
  const size_t front_end_bytes = audio::workspace_bytes(front_end);
  if (front_end_bytes == 0) return 0;
  return round8(front_end_bytes) + round8(front_end.stride_samples() * sizeof(int16_t)) + round8(input_elements) +
         kMaxSmoothedInferences * classes;
}

DetectorStatus KeywordDetector::configure(const audio::AudioFrontEndConfig& front_end, const DetectorConfig& config,
                                          InferenceEngine& engine, std::span<uint8_t> workspace) {
  configured_ = false;
  if (!engine.ready()) return DetectorStatus::kModelNotReady;
  if (config.infer_every_strides == 0) return DetectorStatus::kBadDetectorConfig;
  audio_status_ = front_end.validate();
  if (audio_status_ != audio::AudioStatus::kOk) return DetectorStatus::kFrontEndRefused;
  const size_t features = front_end.features_per_row();
  const size_t inputs = engine.input().size();
  if (inputs == 0 || inputs % features != 0) return DetectorStatus::kInputNotWholeRows;
  const size_t classes = engine.output().size();
  if (classes == 0 || classes > kMaxDetectorClasses) return DetectorStatus::kTooManyClasses;
  const size_t history = history_length(front_end, config);
  if (history > kMaxSmoothedInferences) return DetectorStatus::kBadDetectorConfig;
  if (workspace.size() < workspace_bytes(front_end, inputs, classes) ||
      reinterpret_cast<uintptr_t>(workspace.data()) % 8 != 0) {
    return DetectorStatus::kWorkspaceTooSmall;
  }
  const size_t front_end_bytes = round8(audio::workspace_bytes(front_end));
  audio_status_ = front_end_.configure(front_end, workspace.first(front_end_bytes));
  if (audio_status_ != audio::AudioStatus::kOk) return DetectorStatus::kFrontEndRefused;
  std::span<uint8_t> rest = workspace.subspan(front_end_bytes);
  const size_t stride_samples = front_end.stride_samples();
  stride_ = {reinterpret_cast<int16_t*>(rest.data()), stride_samples};
  rest = rest.subspan(round8(stride_samples * sizeof(int16_t)));
  features_ = {reinterpret_cast<int8_t*>(rest.data()), inputs};
  rest = rest.subspan(round8(inputs));
  history_ = rest.first(history * classes);

  config_ = config;
  engine_ = &engine;
  sample_rate_ = front_end.sample_rate_hz;
  stride_ms_ = front_end.stride_ms;
  features_per_row_ = features;
  rows_ = inputs / features;
  classes_ = classes;
  history_len_ = history;
  configured_ = true;
  reset();
  return DetectorStatus::kOk;
}

void KeywordDetector::reset() {
  front_end_.reset();
  pending_ = 0;
  samples_heard_ = 0;
  next_row_ = 0;
  rows_filled_ = 0;
  strides_to_infer_ = 0;
  next_history_ = 0;
  history_filled_ = 0;
  detected_before_ = false;
  last_detection_ms_ = 0;
}

DetectorStatus KeywordDetector::push(std::span<const int16_t> samples, size_t& consumed, Detection& detection,
                                     bool& detected) {
  consumed = 0;
  detected = false;
  if (!configured_) return DetectorStatus::kNotConfigured;
  while (consumed < samples.size() && !detected) {
    const size_t take =
        stride_.size() - pending_ < samples.size() - consumed ? stride_.size() - pending_ : samples.size() - consumed;
    std::memcpy(stride_.data() + pending_, samples.data() + consumed, take * sizeof(int16_t));
    pending_ += take;
    consumed += take;
    if (pending_ < stride_.size()) break;
    pending_ = 0;
    const DetectorStatus status = on_stride(detection, detected);
    if (status != DetectorStatus::kOk) return status;
  }
  return DetectorStatus::kOk;
}

DetectorStatus KeywordDetector::on_stride(Detection& detection, bool& detected) {
  bool row_ready = false;
  // The new row goes straight into its ring slot (over the oldest row once the ring is full).
  const std::span<int8_t> row = features_.subspan(next_row_ * features_per_row_, features_per_row_);
  audio_status_ = front_end_.push_stride(stride_, row, row_ready);
  if (audio_status_ != audio::AudioStatus::kOk) return DetectorStatus::kFrontEndRefused;
  samples_heard_ += stride_.size();
  if (!row_ready) return DetectorStatus::kOk;
  next_row_ = (next_row_ + 1) % rows_;
  if (rows_filled_ < rows_) ++rows_filled_;
  if (rows_filled_ < rows_) return DetectorStatus::kOk;  // the model sees whole windows only
  const bool due = strides_to_infer_ == 0;
  strides_to_infer_ = (strides_to_infer_ + 1) % config_.infer_every_strides;
  return due ? infer(detection, detected) : DetectorStatus::kOk;
}

DetectorStatus KeywordDetector::infer(Detection& detection, bool& detected) {
  // The ring, oldest row first (it starts at next_row_), is the model's input window. A copy
  // rather than the input tensor itself: the arena planner may reuse the input's bytes.
  const std::span<int8_t> input = engine_->input();
  const size_t split = next_row_ * features_per_row_;
  std::memcpy(input.data(), features_.data() + split, features_.size() - split);
  std::memcpy(input.data() + (features_.size() - split), features_.data(), split);
  if (!engine_->invoke()) return DetectorStatus::kInferenceFailed;
  ++inferences_;

  const std::span<const int8_t> output = engine_->output();
  const int32_t zero_point = engine_->output_zero_point();
  uint8_t* scores = history_.data() + next_history_ * classes_;
  for (size_t c = 0; c < classes_; ++c) scores[c] = quantised_score(output[c], zero_point);
  next_history_ = (next_history_ + 1) % history_len_;
  if (history_filled_ < history_len_) ++history_filled_;

  // Average each class over the window; the first of equal best classes wins (deterministic).
  size_t best = 0;
  uint32_t best_sum = 0;
  for (size_t c = 0; c < classes_; ++c) {
    uint32_t sum = 0;
    for (size_t h = 0; h < history_filled_; ++h) sum += history_[h * classes_ + c];
    if (c == 0 || sum > best_sum) {
      best = c;
      best_sum = sum;
    }
  }
  const auto smoothed = static_cast<uint8_t>((best_sum + history_filled_ / 2) / history_filled_);
  const uint32_t now_ms = audio_ms();
  if ((config_.ignored_labels >> best) & 1u) return DetectorStatus::kOk;
  if (smoothed < config_.threshold) return DetectorStatus::kOk;
  if (detected_before_ && now_ms - last_detection_ms_ < config_.refractory_ms) return DetectorStatus::kOk;
  detected_before_ = true;
  last_detection_ms_ = now_ms;
  detection = Detection{static_cast<uint16_t>(best), smoothed, now_ms};
  detected = true;
  return DetectorStatus::kOk;
}

}  // namespace tinyedge::app
