// A stand-in embedding model for the enrollment tests: the embedding is a fixed pseudo-random
// projection of the centred input, so classes are directions a test can construct, and a
// "new model version" (another seed, another input quantisation) maps them elsewhere.
#pragma once
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "node_firmware/enroll/embedding_head.h"
#include "node_firmware/enroll/embedding_model.h"
#include "node_firmware/enroll/prototype_math.h"

namespace tinyedge::enroll::testing {

inline constexpr size_t kInputBytes = 32;
inline constexpr uint16_t kDim = 16;

// Class k's template: a smooth pattern over the 32 inputs (real values in [-1, 1]).
inline std::vector<float> class_template(int k) {
  std::vector<float> t(kInputBytes);
  std::mt19937 rng(1000 + k);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto& v : t) v = u(rng);
  return t;
}

class ProjectionModel final : public EmbeddingModel {
 public:
  // `trained` classes get head prototypes (from their templates) and labels "t0".."tN".
  ProjectionModel(uint32_t version, uint32_t seed, InputQuantization quantization, int trained)
      : version_(version), quantization_(quantization), input_(kInputBytes), weights_(kDim * kInputBytes) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.0f, 1.0f);
    for (auto& w : weights_) w = n(rng);
    std::vector<int16_t> thresholds, prototypes;
    for (int k = 0; k < trained; ++k) {
      labels_.push_back("t" + std::to_string(k));
      quantize(class_template(k), input_.data());
      std::vector<int16_t> unit(kDim);
      if (embed(unit) != EnrollStatus::kOk) std::abort();
      prototypes.insert(prototypes.end(), unit.begin(), unit.end());
      thresholds.push_back(static_cast<int16_t>(0.8 * kQ14One));
    }
    record_.resize(embedding_head_bytes(kDim, static_cast<uint16_t>(trained)));
    if (!encode_embedding_head(kDim, thresholds, prototypes, record_) ||
        decode_embedding_head(record_, head_) != EnrollStatus::kOk)
      std::abort();
  }

  // Real values -> this model's int8 input.
  void quantize(const std::vector<float>& real, int8_t* out) const {
    for (size_t i = 0; i < kInputBytes; ++i) {
      const long q = std::lround(real[i] / quantization_.scale) + quantization_.zero_point;
      out[i] = static_cast<int8_t>(q < -128 ? -128 : (q > 127 ? 127 : q));
    }
  }

  uint32_t model_id() const override { return 42; }
  uint32_t model_version() const override { return version_; }
  const EmbeddingHead& head() const override { return head_; }
  std::string_view trained_label(size_t i) const override { return labels_.at(i); }
  InputQuantization input_quantization() const override { return quantization_; }
  std::span<int8_t> input() override {
    return input_override ? std::span(input_).first(input_override) : std::span(input_);
  }
  EnrollStatus embed(std::span<int16_t> unit_q14) override {
    ++runs;
    int32_t out[kDim];
    for (size_t d = 0; d < kDim; ++d) {
      float acc = 0;
      for (size_t i = 0; i < kInputBytes; ++i)
        acc += weights_[d * kInputBytes + i] * static_cast<float>(input_[i] - quantization_.zero_point) *
               quantization_.scale;
      out[d] = static_cast<int32_t>(std::lround(acc * 100));
    }
    return normalize_q14(std::span<const int32_t>(out, kDim), unit_q14) ? EnrollStatus::kOk
                                                                        : EnrollStatus::kSilentExample;
  }
  int runs = 0;
  size_t input_override = 0;  // > 0: pretend the input is this many bytes

 private:
  uint32_t version_;
  InputQuantization quantization_;
  std::vector<int8_t> input_;
  std::vector<float> weights_;
  std::vector<std::string> labels_;
  std::vector<uint8_t> record_;
  EmbeddingHead head_;
};

// `count` noisy examples of class k, quantised for `model`, back to back.
inline std::vector<int8_t> examples_of(const ProjectionModel& model, int k, size_t count, uint32_t seed,
                                       float noise = 0.15f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, noise);
  std::vector<int8_t> out(count * kInputBytes);
  for (size_t e = 0; e < count; ++e) {
    auto t = class_template(k);
    for (auto& v : t) v += n(rng);
    model.quantize(t, out.data() + e * kInputBytes);
  }
  return out;
}

}  // namespace tinyedge::enroll::testing
