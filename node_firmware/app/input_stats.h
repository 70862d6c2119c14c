// Running sums over the input tensors of a telemetry period's inferences: count, sum and sum of
// squares of their int8 values, in integers (no float on the node's hot path, exact on every
// target). The gateway derives mean and variance from them and watches them drift: a dirty lens or
// a new microphone moves the input long before anyone measures the model's accuracy.
#pragma once
#include <cstdint>
#include <span>

namespace tinyedge::app {

class InputStats {
 public:
  // Adds one inference's input, taken on model `model_id` v`version`. A new model starts the sums
  // again (a period's sums are over one model's inputs). False, and nothing added, when the sums
  // would overflow their protocol fields (a period of billions of values: never in practice).
  [[nodiscard]] bool add(std::span<const int8_t> input, uint32_t model_id, uint32_t version) {
    if (model_id != model_id_ || version != version_) {
      reset();
      model_id_ = model_id;
      version_ = version;
    }
    if (input.empty() || input.size() > kMaxValues - values_ || inferences_ == UINT32_MAX) return false;
    int64_t sum = 0;
    uint64_t squares = 0;
    for (const int8_t v : input) {
      sum += v;
      squares += static_cast<uint64_t>(static_cast<int32_t>(v) * v);
    }
    ++inferences_;
    values_ += static_cast<uint32_t>(input.size());
    sum_ += sum;
    sum_squares_ += squares;
    return true;
  }
  // A period was reported: the next one starts from nothing (on the same model).
  void reset() { inferences_ = values_ = 0, sum_ = 0, sum_squares_ = 0; }

  uint32_t inferences() const { return inferences_; }
  uint32_t values() const { return values_; }
  int64_t sum() const { return sum_; }
  uint64_t sum_squares() const { return sum_squares_; }

 private:
  static constexpr uint32_t kMaxValues = UINT32_MAX;  // input_values is a uint32
  uint32_t model_id_ = 0, version_ = 0;
  uint32_t inferences_ = 0, values_ = 0;
  int64_t sum_ = 0;           // |sum| <= 128 * values: far inside int64
  uint64_t sum_squares_ = 0;  // <= 16384 * values: far inside uint64
};

}  // namespace tinyedge::app
