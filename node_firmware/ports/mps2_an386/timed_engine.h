// Wraps the node's engine to print, from the firmware itself, the instructions each inference
// takes: under `qemu -icount shift=0` virtual nanoseconds are instructions. The first inference
// also prints its whole output tensor, so a test can compare it bit for bit with the host runtime.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/app/inference_engine.h"

namespace tinyedge::mps2 {

class TimedEngine final : public app::InferenceEngine {
 public:
  explicit TimedEngine(app::InferenceEngine& inner) : inner_(inner) {}
  bool ready() const override { return inner_.ready(); }
  app::ModelInfo info() const override { return inner_.info(); }
  std::span<int8_t> input() override { return inner_.input(); }
  bool invoke() override;
  std::span<const int8_t> output() const override { return inner_.output(); }
  int32_t output_zero_point() const override { return inner_.output_zero_point(); }

 private:
  app::InferenceEngine& inner_;
  uint32_t count_ = 0;
};

}  // namespace tinyedge::mps2
