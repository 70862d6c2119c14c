// The nodes' nearest-prototype classifier: an embedding model (an audio record then an "EHD1"
// head, or for images the head alone) runs on the node's RuntimeEngine, and each inference
// becomes one score per class for the keyword detector (or the camera node's results, see
// prototype_classifier.h). Slots: the head's trained classes, then the enrolled classes (as many
// as the Enroller may hold), then "unknown". The nearest class scores 255 when its cosine reaches
// that class's threshold, else "unknown" does; every other slot scores 0. The detector's average
// over its smoothing window is so the share of recent inferences that found the class, and its
// threshold the share a word must hold: one close frame does not make a detection.
//
// The same object is the EmbeddingModel the Enroller and the EnrollService use, over the same
// engine and arena (a second interpreter would need a second arena).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "node_firmware/app/embedding_scorer.h"
#include "node_firmware/app/keyword_detector.h"
#include "node_firmware/enroll/embedding_model.h"
#include "node_firmware/enroll/enroller.h"

namespace tinyedge::app {

class PrototypeScorer final : public EmbeddingScorer, public enroll::EmbeddingModel {
 public:
  // `max_enrolled`: the Enroller's EnrollConfig::max_classes (slots kept for enrolled classes).
  PrototypeScorer(enroll::Enroller& enroller, size_t max_enrolled) : enroller_(enroller), max_enrolled_(max_enrolled) {}

  // EmbeddingScorer: decodes the head, checks it against the model (int8 embedding of the head's
  // dimension, a label per trained class, all slots within kMaxDetectorClasses) and attaches the
  // Enroller, which recomputes enrolled prototypes made with another model. last_status() says why
  // a bind failed.
  [[nodiscard]] bool bind(RuntimeEngine& engine) override;
  size_t unknown_slot() const override { return slots_ - 1; }
  enroll::EnrollStatus last_status() const { return status_; }
  // Classes recomputed by the last bind (after a model update).
  size_t recomputed() const { return recomputed_; }

  // InferenceEngine (for the detector): invoke() classifies the input window.
  bool ready() const override { return engine_ != nullptr && engine_->ready(); }
  ModelInfo info() const override;
  std::span<int8_t> input() override;
  bool invoke() override;
  std::span<const int8_t> output() const override { return std::span<const int8_t>(scores_, slots_); }
  int32_t output_zero_point() const override { return -128; }
  // The last classification (index as enroll::Match: trained, then enrolled).
  const enroll::Match& last_match() const { return match_; }

  // EmbeddingModel (for the Enroller and the EnrollService).
  uint32_t model_id() const override;
  uint32_t model_version() const override;
  const enroll::EmbeddingHead& head() const override { return head_; }
  std::string_view trained_label(size_t i) const override;
  enroll::InputQuantization input_quantization() const override { return quantization_; }
  [[nodiscard]] enroll::EnrollStatus embed(std::span<int16_t> unit_q14) override;

 private:
  enroll::Enroller& enroller_;
  size_t max_enrolled_;
  RuntimeEngine* engine_ = nullptr;
  enroll::EmbeddingHead head_{};
  enroll::InputQuantization quantization_{};
  enroll::EnrollStatus status_ = enroll::EnrollStatus::kBadHead;
  size_t recomputed_ = 0;
  size_t slots_ = 1;
  enroll::Match match_{};
  int8_t scores_[kMaxDetectorClasses] = {};
};

}  // namespace tinyedge::app
