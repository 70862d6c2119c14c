#include "node_firmware/app/prototype_scorer.h"

#include "node_firmware/enroll/prototype_math.h"

namespace tinyedge::app {

bool PrototypeScorer::bind(RuntimeEngine& engine) {
  engine_ = nullptr;
  recomputed_ = 0;
  status_ = enroll::EnrollStatus::kBadHead;
  if (!engine.ready()) return false;
  const runtime::Model& model = engine.model();
  enroll::EmbeddingHead head;
  if (enroll::decode_embedding_head(enroll::find_embedding_head(model.front_end()), head) != enroll::EnrollStatus::kOk)
    return false;
  const runtime::TensorInfo in = model.input_info();
  const runtime::TensorInfo out = model.output_info();
  const size_t slots = size_t{head.class_count} + max_enrolled_ + 1;
  if (out.type != static_cast<uint8_t>(runtime::TemType::kInt8) || out.element_count != head.dim ||
      model.label_count() != head.class_count || slots > kMaxDetectorClasses)
    return false;
  engine_ = &engine;
  head_ = head;
  quantization_ = {in.scale, in.zero_point};
  slots_ = slots;
  status_ = enroller_.attach(*this, recomputed_);
  if (status_ != enroll::EnrollStatus::kOk) engine_ = nullptr;
  return engine_ != nullptr;
}

ModelInfo PrototypeScorer::info() const { return engine_ != nullptr ? engine_->info() : ModelInfo{}; }

std::span<int8_t> PrototypeScorer::input() { return engine_ != nullptr ? engine_->input() : std::span<int8_t>{}; }

uint32_t PrototypeScorer::model_id() const { return info().model_id; }

uint32_t PrototypeScorer::model_version() const { return info().version; }

std::string_view PrototypeScorer::trained_label(size_t i) const {
  return engine_ != nullptr ? engine_->model().label(i) : std::string_view{};
}

enroll::EnrollStatus PrototypeScorer::embed(std::span<int16_t> unit_q14) {
  if (engine_ == nullptr || unit_q14.size() != head_.dim) return enroll::EnrollStatus::kBadHead;
  if (!engine_->invoke()) return enroll::EnrollStatus::kModelFailed;
  const std::span<const int8_t> raw = engine_->output();
  const int32_t zero_point = engine_->output_zero_point();
  int32_t centred[enroll::kMaxEmbeddingDim];
  for (size_t i = 0; i < head_.dim; ++i) centred[i] = raw[i] - zero_point;
  return enroll::normalize_q14(std::span<const int32_t>(centred, head_.dim), unit_q14)
             ? enroll::EnrollStatus::kOk
             : enroll::EnrollStatus::kSilentExample;
}

bool PrototypeScorer::invoke() {
  if (engine_ == nullptr) return false;
  for (size_t i = 0; i < slots_; ++i) scores_[i] = -128;
  match_ = enroll::Match{};
  const enroll::EnrollStatus status = enroller_.classify(match_);
  // A silent window has no direction: nothing is near it.
  if (status == enroll::EnrollStatus::kSilentExample)
    match_ = enroll::Match{};
  else if (status != enroll::EnrollStatus::kOk)
    return false;
  const bool known = match_.known && match_.index >= 0 && static_cast<size_t>(match_.index) < unknown_slot();
  scores_[known ? static_cast<size_t>(match_.index) : unknown_slot()] = 127;
  return true;
}

}  // namespace tinyedge::app
