#include "node_firmware/app/recording_examples.h"

#include "node_firmware/audio/loudest_windows.h"

namespace tinyedge::app {
namespace {

// A window 20 dB below the loudest is a pause between the words, not one of them: a recording
// with fewer words than asked for is refused (too few examples) rather than padded with pauses.
constexpr uint32_t kPauseRatio = 100;

}  // namespace

enroll::EnrollStatus RecordingExamples::capture(std::string_view label, uint32_t index, std::span<int8_t> out) {
  if (!have_front_end_) return enroll::EnrollStatus::kBadExamples;
  const size_t features = front_end_config_.features_per_row();
  if (features == 0 || out.empty() || out.size() % features != 0) return enroll::EnrollStatus::kBadExamples;
  const size_t rows = out.size() / features;
  if (index == 0) {
    found_ = 0;
    samples_ = recordings_.recording(label);
    if (samples_.empty()) return enroll::EnrollStatus::kBadExamples;
    // The samples that make exactly `rows` feature rows (the front-end works in whole strides and
    // gives its first row once a whole window is in): the model's input window, ~1 s.
    const size_t stride = front_end_config_.stride_samples();
    const size_t first = (front_end_config_.window_samples() + stride - 1) / stride;
    window_ = (rows + first - 1) * stride;
    found_ = audio::loudest_windows(samples_, window_, stride, kPauseRatio, starts_);
  }
  if (index >= found_) return found_ == 0 ? enroll::EnrollStatus::kBadExamples : enroll::EnrollStatus::kTooFewExamples;
  // A fresh front-end per window: its noise estimate and window history start where the
  // trainer's do for a clip.
  if (front_end_.configure(front_end_config_, workspace_) != audio::AudioStatus::kOk)
    return enroll::EnrollStatus::kBadExamples;
  size_t made = 0;
  if (audio::compute_clip(front_end_, samples_.subspan(starts_[index], window_), out, made) !=
          audio::AudioStatus::kOk ||
      made != rows)
    return enroll::EnrollStatus::kBadExamples;
  return enroll::EnrollStatus::kOk;
}

}  // namespace tinyedge::app
