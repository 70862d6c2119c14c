// An embedding model run by the int8 runtime: a loaded .tem whose single output is the embedding
// (int8 or int16) and whose front-end region carries an "EHD1" head with one prototype per label.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/enroll/embedding_model.h"
#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::enroll {

class RuntimeEmbeddingModel final : public EmbeddingModel {
 public:
  // Checks the head against the model (dimension = output size, a label per prototype, an int8
  // input) and initialises the interpreter in `arena`. `model` and `arena` must outlive this.
  [[nodiscard]] EnrollStatus bind(const runtime::Model& model, std::span<uint8_t> arena);

  uint32_t model_id() const override { return model_->model_id(); }
  uint32_t model_version() const override { return model_->version(); }
  const EmbeddingHead& head() const override { return head_; }
  std::string_view trained_label(size_t i) const override { return model_->label(i); }
  InputQuantization input_quantization() const override { return input_quantization_; }
  std::span<int8_t> input() override { return interpreter_.input(); }
  [[nodiscard]] EnrollStatus embed(std::span<int16_t> unit_q14) override;

 private:
  const runtime::Model* model_ = nullptr;
  runtime::Interpreter interpreter_;
  EmbeddingHead head_{};
  InputQuantization input_quantization_{};
  uint8_t output_type_ = 0;
  int32_t output_zero_point_ = 0;
};

}  // namespace tinyedge::enroll
