// A speech node's enrollment follows the model it runs (ModelEnrollment): the speech listener
// checks each model first (and binds the scorer, recomputing the enrolled classes), and examples
// are cut with the new model's front-end.
#pragma once
#include <span>

#include "node_firmware/app/model_enrollment.h"
#include "node_firmware/app/recording_examples.h"
#include "node_firmware/app/speech_listener.h"

namespace tinyedge::app {

class SpeechEnrollment final : public ModelEnrollment {
 public:
  SpeechEnrollment(RuntimeEngine& engine, SpeechListener& listener, PrototypeScorer& scorer,
                   RecordingExamples& examples, EnrollService& service, const SlotStore& store,
                   std::span<const ota::TrustedKey> keys)
      : ModelEnrollment(engine, scorer, service, store, keys), listener_(listener), examples_(examples) {}

 private:
  bool bind_embedding() override {
    const bool embedding = listener_.active() && listener_.model_check().embedding;
    if (embedding) examples_.set_front_end(listener_.model_check().front_end);
    return embedding;
  }

  SpeechListener& listener_;
  RecordingExamples& examples_;
};

}  // namespace tinyedge::app
