// What the speech listener needs to run an embedding model (an audio record followed by an "EHD1"
// head): an engine whose output is one score per class, computed by nearest prototype over the
// trained and the enrolled classes. app::PrototypeScorer (tinyedge_app_enroll) is the one the
// nodes use; the listener itself does not depend on enrollment.
#pragma once
#include <cstddef>

#include "node_firmware/app/inference_engine.h"
#include "node_firmware/app/runtime_engine.h"

namespace tinyedge::app {

class EmbeddingScorer : public InferenceEngine {
 public:
  // Binds the engine's current model (its head; enrolled classes are recomputed if they were made
  // with another model). False if the head does not fit the model or the detector.
  [[nodiscard]] virtual bool bind(RuntimeEngine& engine) = 0;
  // The score slot that means "no class near enough": the detector never reports it.
  virtual size_t unknown_slot() const = 0;

 protected:
  ~EmbeddingScorer() = default;
};

}  // namespace tinyedge::app
