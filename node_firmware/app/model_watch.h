// Notices that the engine holds another model than last time (the boot's, or an update just
// activated): whoever configures itself from the model (the speech listener, the camera node's
// prototype classifier) asks before each use. Another id or version, or the same ones at other
// bytes (a slot switch), is a new model.
#pragma once
#include <cstdint>

#include "node_firmware/app/runtime_engine.h"

namespace tinyedge::app {

class ModelWatch {
 public:
  // True on the first call and whenever the engine's model is not the one seen by the last call.
  bool changed(const RuntimeEngine& engine) {
    const ModelInfo info = engine.info();
    const void* bytes = engine.ready() ? engine.model().data() : nullptr;
    if (seen_ && info.model_id == model_id_ && info.version == version_ && bytes == bytes_) return false;
    seen_ = true;
    model_id_ = info.model_id;
    version_ = info.version;
    bytes_ = bytes;
    return true;
  }

 private:
  bool seen_ = false;
  uint32_t model_id_ = 0, version_ = 0;
  const void* bytes_ = nullptr;
};

}  // namespace tinyedge::app
