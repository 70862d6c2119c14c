// The camera node's model as the node's InferenceEngine: a model with an embedding head ("EHD1",
// an image embedding model) is run by nearest prototype through the PrototypeScorer, one score
// slot per trained class, then per enrolled class, then "unknown" (the winner 255, the rest 0);
// a model without one is run as it is (its output is its class scores). Each model the engine
// gets (the boot's, or an update activated) is looked at once: its head is bound and the
// enrolled prototypes recomputed with it. A head the scorer refuses leaves the node without a
// model to run (input() empty: no inference), never one read as class scores.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/app/inference_engine.h"
#include "node_firmware/app/model_watch.h"
#include "node_firmware/app/prototype_scorer.h"
#include "node_firmware/app/runtime_engine.h"

namespace tinyedge::app {

class PrototypeClassifier final : public InferenceEngine {
 public:
  PrototypeClassifier(RuntimeEngine& engine, PrototypeScorer& scorer) : engine_(engine), scorer_(scorer) {}

  // Binds a model the engine got since the last call; the port calls it each main-loop pass
  // (input() does too, so an update activated mid-pass is never run with the old head).
  void refresh();
  // The current model is run by nearest prototype (it has an embedding head the scorer bound).
  bool by_prototype() const { return mode_ == Mode::kPrototype; }
  // Why the current model's head was refused (kOk when there is none or it was bound).
  enroll::EnrollStatus head_status() const { return head_status_; }

  bool ready() const override { return mode_ != Mode::kRefused && engine_.ready(); }
  ModelInfo info() const override { return engine_.info(); }
  std::span<int8_t> input() override;
  bool invoke() override;
  std::span<const int8_t> output() const override;
  int32_t output_zero_point() const override;

 private:
  enum class Mode : uint8_t { kPlain, kPrototype, kRefused };

  RuntimeEngine& engine_;
  PrototypeScorer& scorer_;
  ModelWatch watch_;
  Mode mode_ = Mode::kPlain;
  enroll::EnrollStatus head_status_ = enroll::EnrollStatus::kOk;
};

}  // namespace tinyedge::app
