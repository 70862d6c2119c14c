// The node reaches its model only through this interface, so the loop, the ring buffer and the
// bearers do not depend on how a model is stored or executed.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

namespace tinyedge::app {

struct ModelInfo {
  uint32_t model_id = 0;
  uint32_t version = 0;
  std::string_view name;
  uint32_t arena_bytes = 0;  // arena the model needs
};

class InferenceEngine {
 public:
  virtual bool ready() const = 0;
  virtual ModelInfo info() const = 0;
  virtual std::span<int8_t> input() = 0;
  // Runs one inference on input(); false if the model failed.
  virtual bool invoke() = 0;
  virtual std::span<const int8_t> output() const = 0;
  // Output zero point: scores are q - zero_point, which for TFLite's int8 softmax
  // (scale 1/256, zero point -128) is the probability in 1/256 steps.
  virtual int32_t output_zero_point() const = 0;

 protected:
  ~InferenceEngine() = default;
};

}  // namespace tinyedge::app
