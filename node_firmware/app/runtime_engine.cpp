#include "node_firmware/app/runtime_engine.h"

namespace tinyedge::app {

runtime::Status RuntimeEngine::load(std::span<const uint8_t> blob) {
  ready_ = false;
  runtime::Model model;
  runtime::Status status = runtime::Model::load(blob, model);
  if (status == runtime::Status::kOk) {
    model_ = model;
    status = interpreter_.init(model_, arena_);
  }
  last_status_ = status;
  if (status != runtime::Status::kOk) return status;
  output_zero_point_ = model_.output_info().zero_point;
  ready_ = true;
  return status;
}

ModelInfo RuntimeEngine::info() const {
  if (!ready_) return {};
  return {model_.model_id(), model_.version(), model_.name(), model_.arena_bytes()};
}

std::span<int8_t> RuntimeEngine::input() {
  if (!ready_) return {};
  return interpreter_.input();
}

bool RuntimeEngine::invoke() {
  if (!ready_) return false;
  last_status_ = interpreter_.invoke();
  return last_status_ == runtime::Status::kOk;
}

std::span<const int8_t> RuntimeEngine::output() const {
  if (!ready_) return {};
  return interpreter_.output();
}

}  // namespace tinyedge::app
