#include "node_firmware/app/prototype_classifier.h"

#include "node_firmware/enroll/embedding_head.h"

namespace tinyedge::app {

void PrototypeClassifier::refresh() {
  if (!watch_.changed(engine_)) return;
  mode_ = Mode::kPlain;
  head_status_ = enroll::EnrollStatus::kOk;
  if (!engine_.ready() || enroll::find_embedding_head(engine_.model().front_end()).empty()) return;
  if (scorer_.bind(engine_)) {
    mode_ = Mode::kPrototype;
  } else {
    mode_ = Mode::kRefused;
    head_status_ =
        scorer_.last_status() != enroll::EnrollStatus::kOk ? scorer_.last_status() : enroll::EnrollStatus::kBadHead;
  }
}

std::span<int8_t> PrototypeClassifier::input() {
  refresh();
  switch (mode_) {
    case Mode::kPrototype:
      return scorer_.input();
    case Mode::kPlain:
      return engine_.input();
    case Mode::kRefused:
      break;
  }
  return {};
}

bool PrototypeClassifier::invoke() {
  switch (mode_) {
    case Mode::kPrototype:
      return scorer_.invoke();
    case Mode::kPlain:
      return engine_.invoke();
    case Mode::kRefused:
      break;
  }
  return false;
}

std::span<const int8_t> PrototypeClassifier::output() const {
  return mode_ == Mode::kPrototype ? scorer_.output() : engine_.output();
}

int32_t PrototypeClassifier::output_zero_point() const {
  return mode_ == Mode::kPrototype ? scorer_.output_zero_point() : engine_.output_zero_point();
}

}  // namespace tinyedge::app
