#include "node_firmware/app/speech_listener.h"

namespace tinyedge::app {

SpeechListener::SpeechListener(Platform& platform, Microphone& microphone, RuntimeEngine& engine,
                               std::span<uint8_t> workspace, const DetectorConfig& detector)
    : platform_(platform),
      microphone_(microphone),
      engine_(engine),
      workspace_(workspace),
      detector_config_(detector) {}

void SpeechListener::refresh() {
  if (!model_watch_.changed(engine_)) return;
  // A new model (boot, or an update activated): check it, and run it only if this node can.
  running_ = false;
  started_ = false;
  chunk_begin_ = chunk_end_ = 0;
  check_ = SpeechModelCheck{};
  if (!engine_.ready()) return;
  check_ = check_speech_model(engine_.model(), capability());
  if (check_.status != SpeechModelStatus::kOk) return;
  DetectorConfig config = detector_config_;
  config.ignored_labels = check_.ignored_labels;
  InferenceEngine* scores = &engine_;
  if (check_.embedding) {
    if (scorer_ == nullptr) {
      check_.status = SpeechModelStatus::kNoEnrollment;
      return;
    }
    if (!scorer_->bind(engine_)) {
      check_.status = SpeechModelStatus::kHeadRefused;
      return;
    }
    config.ignored_labels |= 1u << scorer_->unknown_slot();
    scores = scorer_;
  }
  detector_status_ = detector_.configure(check_.front_end, config, *scores, workspace_);
  running_ = detector_status_ == DetectorStatus::kOk;
}

bool SpeechListener::active() {
  refresh();
  return running_;
}

bool SpeechListener::poll(StreamEvent& event) {
  refresh();
  if (!running_) return false;
  for (size_t reads = 0; reads < kChunksPerPoll;) {
    if (chunk_begin_ == chunk_end_) {
      uint32_t clip = 0;
      const size_t got = microphone_.read(chunk_, clip);
      ++reads;
      if (got == 0) return false;
      if (!started_) {
        // Audio time 0 is the first sample heard: detections map onto the node's clock from here.
        started_ = true;
        start_ms_ = platform_.now_ms();
      }
      clip_id_ = clip;
      chunk_begin_ = 0;
      chunk_end_ = got;
    }
    size_t consumed = 0;
    bool detected = false;
    Detection detection;
    const uint32_t began_us = platform_.now_us();
    const DetectorStatus status = detector_.push(
        std::span<const int16_t>(chunk_ + chunk_begin_, chunk_end_ - chunk_begin_), consumed, detection, detected);
    const uint32_t took_us = platform_.now_us() - began_us;
    chunk_begin_ += consumed;
    if (status != DetectorStatus::kOk) {
      // The stride is lost, the stream goes on (a model that fails keeps failing: counted).
      ++failed_;
      detector_status_ = status;
      chunk_begin_ = chunk_end_;
      continue;
    }
    if (detected) {
      event = StreamEvent{detection.label, detection.score, start_ms_ + detection.at_ms, clip_id_, took_us};
      return true;
    }
  }
  return false;
}

}  // namespace tinyedge::app
