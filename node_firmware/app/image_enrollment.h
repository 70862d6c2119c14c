// A camera node's enrollment follows the model it runs (ModelEnrollment): the prototype classifier
// checks each model first (binding its embedding head to the scorer, recomputing the enrolled
// classes); the frames need nothing else from the model.
#pragma once
#include <span>

#include "node_firmware/app/model_enrollment.h"
#include "node_firmware/app/prototype_classifier.h"

namespace tinyedge::app {

class ImageEnrollment final : public ModelEnrollment {
 public:
  ImageEnrollment(RuntimeEngine& engine, PrototypeClassifier& classifier, PrototypeScorer& scorer,
                  EnrollService& service, const SlotStore& store, std::span<const ota::TrustedKey> keys)
      : ModelEnrollment(engine, scorer, service, store, keys), classifier_(classifier) {}

 private:
  bool bind_embedding() override {
    classifier_.refresh();
    return classifier_.by_prototype();
  }

  PrototypeClassifier& classifier_;
};

}  // namespace tinyedge::app
