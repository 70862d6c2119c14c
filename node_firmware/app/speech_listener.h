// The node's ear: when the loaded model carries an audio front-end record, the listener configures
// the front-end and the keyword detector from it, feeds them the microphone's samples and hands
// the node one detection at a time. It notices a model change (an update activated) by itself and
// reconfigures, restarting the stream; a model it cannot run (see speech_model.h) is never run.
// An embedding model's classes are scored by nearest prototype (EmbeddingScorer): the trained
// classes of its head and the classes enrolled on this node, "unknown" below a class's threshold.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "node_firmware/app/embedding_scorer.h"
#include "node_firmware/app/event_source.h"
#include "node_firmware/app/keyword_detector.h"
#include "node_firmware/app/microphone.h"
#include "node_firmware/app/model_watch.h"
#include "node_firmware/app/platform.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/app/speech_model.h"

namespace tinyedge::app {

class SpeechListener final : public EventSource {
 public:
  // `workspace` (8-byte aligned) is all the RAM the front-end and detector get; `detector` gives
  // the smoothing, refractory period and threshold (the ignored labels come from the model).
  SpeechListener(Platform& platform, Microphone& microphone, RuntimeEngine& engine, std::span<uint8_t> workspace,
                 const DetectorConfig& detector);

  // Runs embedding models (an audio record then an "EHD1" head) by nearest prototype; without
  // one they are refused (kNoEnrollment). Set before the first poll.
  void set_scorer(EmbeddingScorer* scorer) { scorer_ = scorer; }

  bool active() override;
  bool poll(StreamEvent& event) override;
  uint32_t inferences() const override { return detector_.inferences(); }
  uint32_t failed_inferences() const override { return failed_; }

  // Why the current model is (not) run: kNoFrontEnd for a model without a record.
  SpeechModelStatus model_status() const { return check_.status; }
  const SpeechModelCheck& model_check() const { return check_; }
  DetectorStatus detector_status() const { return detector_status_; }
  SpeechCapability capability() const { return {microphone_.sample_rate_hz(), workspace_.size()}; }
  uint32_t audio_ms() const { return detector_.audio_ms(); }

 private:
  void refresh();

  static constexpr size_t kChunkSamples = 160;  // 10 ms at 16 kHz per microphone read
  static constexpr size_t kChunksPerPoll = 32;  // bounds one poll's work after a stall

  Platform& platform_;
  Microphone& microphone_;
  RuntimeEngine& engine_;
  std::span<uint8_t> workspace_;
  DetectorConfig detector_config_;
  KeywordDetector detector_;
  EmbeddingScorer* scorer_ = nullptr;
  SpeechModelCheck check_{};
  DetectorStatus detector_status_ = DetectorStatus::kNotConfigured;
  bool running_ = false;
  ModelWatch model_watch_;
  bool started_ = false;
  uint32_t start_ms_ = 0;
  uint32_t clip_id_ = 0;
  uint32_t failed_ = 0;
  int16_t chunk_[kChunkSamples] = {};
  size_t chunk_begin_ = 0, chunk_end_ = 0;
};

}  // namespace tinyedge::app
