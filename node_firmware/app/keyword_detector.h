// Streaming keyword detection: microphone samples in, detections ("yes", 0.94, at 1,840 ms) out.
//
// Samples gather in a one-stride audio buffer; each whole stride goes through the audio front-end,
// which keeps its own window history and yields one feature row per stride. Rows go into a ring
// of the model's rows x features (the newest row replaces the oldest: nothing is recomputed), and
// every N strides the ring is copied into the model's input oldest row first and the model runs.
// Its class scores (0..255) are averaged over the last inferences of the smoothing window; the
// best class is a detection when it reaches the threshold, is not an ignored class (_silence_,
// _unknown_) and no detection was made within the refractory period before.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "node_firmware/app/inference_engine.h"
#include "node_firmware/audio/audio_config.h"
#include "node_firmware/audio/front_end.h"

namespace tinyedge::app {

enum class DetectorStatus : uint8_t {
  kOk,
  kFrontEndRefused,    // the front-end refused the config (audio_status() says why)
  kModelNotReady,      // the engine has no model loaded
  kInputNotWholeRows,  // the model's input is not a whole number (>= 1) of feature rows
  kTooManyClasses,     // the model has more output classes than kMaxDetectorClasses
  kBadDetectorConfig,  // N is 0, or the smoothing window holds more than kMaxSmoothedInferences
  kWorkspaceTooSmall,  // workspace smaller than workspace_bytes() or not 8-byte aligned
  kNotConfigured,      // push before a successful configure()
  kInferenceFailed,    // the model failed on a feature window
};

const char* to_string(DetectorStatus status);

inline constexpr size_t kMaxDetectorClasses = 32;     // one bit each in ignored_labels
inline constexpr size_t kMaxSmoothedInferences = 32;  // inferences averaged at most

struct DetectorConfig {
  uint32_t infer_every_strides = 1;  // N: one inference per N feature rows
  uint32_t smoothing_ms = 500;       // scores averaged over the inferences of the last this-many ms
  uint32_t refractory_ms = 1000;     // no detection within this long after one
  uint8_t threshold = 180;           // smoothed score (0..255) a keyword must reach
  uint32_t ignored_labels = 0;       // bit i set: class i is never reported (_silence_, _unknown_)
};

struct Detection {
  uint16_t label = 0;
  uint8_t score = 0;   // smoothed, 0..255
  uint32_t at_ms = 0;  // audio time of the stride that confirmed it, from the stream's start
};

class KeywordDetector {
 public:
  // Bytes of 8-byte-aligned workspace for the front-end, the stride buffer, the feature ring and
  // the score history of a model with `input_elements` int8 inputs and `classes` outputs.
  static size_t workspace_bytes(const audio::AudioFrontEndConfig& front_end, size_t input_elements, size_t classes);

  // Checks the model against the front-end (input = rows x features_per_row, classes <= the
  // maximum) and lays the buffers out in `workspace`, which must outlive the detector. On failure
  // the detector is unconfigured and push() refuses.
  [[nodiscard]] DetectorStatus configure(const audio::AudioFrontEndConfig& front_end, const DetectorConfig& config,
                                         InferenceEngine& engine, std::span<uint8_t> workspace);
  // A new stream: forgets audio, features, scores and the refractory clock (time restarts at 0).
  void reset();

  // Takes samples from the front of `samples` until they run out or a detection is made (then
  // `detected` is set and the caller pushes the rest, samples.subspan(consumed), again).
  [[nodiscard]] DetectorStatus push(std::span<const int16_t> samples, size_t& consumed, Detection& detection,
                                    bool& detected);

  bool configured() const { return configured_; }
  audio::AudioStatus audio_status() const { return audio_status_; }
  uint32_t inferences() const { return inferences_; }
  uint32_t audio_ms() const { return static_cast<uint32_t>(uint64_t{samples_heard_} * 1000 / sample_rate_); }
  size_t rows() const { return rows_; }

 private:
  // One whole stride is in the buffer: feature row, maybe an inference, maybe a detection.
  [[nodiscard]] DetectorStatus on_stride(Detection& detection, bool& detected);
  [[nodiscard]] DetectorStatus infer(Detection& detection, bool& detected);

  audio::AudioFrontEnd front_end_;
  audio::AudioStatus audio_status_ = audio::AudioStatus::kNotConfigured;
  DetectorConfig config_{};
  InferenceEngine* engine_ = nullptr;
  bool configured_ = false;
  uint32_t sample_rate_ = 16000;
  uint32_t stride_ms_ = 0;
  // Views into the workspace.
  std::span<int16_t> stride_;   // the audio buffer: one stride
  std::span<int8_t> features_;  // ring of rows_ feature rows
  std::span<uint8_t> history_;  // ring of history_len_ score vectors of classes_ each
  size_t features_per_row_ = 0;
  size_t rows_ = 0;
  size_t classes_ = 0;
  size_t history_len_ = 1;
  // Streaming state.
  size_t pending_ = 0;          // samples in stride_
  uint64_t samples_heard_ = 0;  // whole strides pushed, in samples
  size_t next_row_ = 0;         // where the next feature row goes (the oldest once full)
  size_t rows_filled_ = 0;
  uint32_t strides_to_infer_ = 0;
  size_t next_history_ = 0;
  size_t history_filled_ = 0;
  bool detected_before_ = false;
  uint32_t last_detection_ms_ = 0;
  uint32_t inferences_ = 0;
};

}  // namespace tinyedge::app
