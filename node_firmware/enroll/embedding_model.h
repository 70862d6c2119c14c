// What enrollment needs from the model: its identity, its input, a way to run it, and its head.
// The node implements it over the runtime (RuntimeEmbeddingModel); tests can use any function.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "node_firmware/enroll/embedding_head.h"
#include "node_firmware/enroll/enroll_status.h"

namespace tinyedge::enroll {

struct InputQuantization {
  float scale = 0.0f;
  int32_t zero_point = 0;
};

class EmbeddingModel {
 public:
  virtual uint32_t model_id() const = 0;
  virtual uint32_t model_version() const = 0;
  virtual const EmbeddingHead& head() const = 0;
  virtual std::string_view trained_label(size_t i) const = 0;
  virtual InputQuantization input_quantization() const = 0;
  // The model's input buffer: write one example here, then embed().
  virtual std::span<int8_t> input() = 0;
  // Runs the model on input() and writes its embedding as a Q14 unit vector (head().dim long).
  // kSilentExample if the embedding is all zero (no direction), kModelFailed if the model failed.
  [[nodiscard]] virtual EnrollStatus embed(std::span<int16_t> unit_q14) = 0;

 protected:
  ~EmbeddingModel() = default;
};

}  // namespace tinyedge::enroll
