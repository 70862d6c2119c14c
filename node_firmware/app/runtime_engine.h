// InferenceEngine over the TinyEdge runtime: a validated .tem model executed in place, with the
// arena the port provides.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/app/inference_engine.h"
#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"
#include "node_firmware/runtime/status.h"

namespace tinyedge::app {

class RuntimeEngine final : public InferenceEngine {
 public:
  explicit RuntimeEngine(std::span<uint8_t> arena) : arena_(arena) {}

  // Validates `blob` and prepares the interpreter; on failure the engine is not ready (an
  // earlier model is unloaded: the caller decides whether to load a fallback).
  runtime::Status load(std::span<const uint8_t> blob);
  void unload() { ready_ = false; }

  bool ready() const override { return ready_; }
  ModelInfo info() const override;
  std::span<int8_t> input() override;
  bool invoke() override;
  std::span<const int8_t> output() const override;
  int32_t output_zero_point() const override { return output_zero_point_; }

  runtime::Status last_status() const { return last_status_; }
  const runtime::Model& model() const { return model_; }

 private:
  std::span<uint8_t> arena_;
  runtime::Model model_;
  runtime::Interpreter interpreter_;
  bool ready_ = false;
  int32_t output_zero_point_ = 0;
  runtime::Status last_status_ = runtime::Status::kNotInitialised;
};

}  // namespace tinyedge::app
