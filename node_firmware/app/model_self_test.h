// The golden self-test an update must pass before its slot becomes active: run the manifest's
// input through the new model (in place, in the inactive slot) and hand back the SHA-256 of
// the output. Kept behind an interface so the OTA client knows nothing of the runtime.
#pragma once
#include <cstdint>
#include <span>

#include "ota/sha256.h"

namespace tinyedge::app {

enum class SelfTestStatus : uint8_t {
  kOk,
  kBadModel,             // the payload is not a model this runtime can load (or it needs more arena)
  kInputMismatch,        // the golden input is not the size of the model's input tensor
  kFailed,               // inference itself failed
  kFrontEndUnsupported,  // the model's front-end record is one this node cannot run (speech_model.h)
};

const char* to_string(SelfTestStatus status);

class ModelSelfTest {
 public:
  // With an empty `input`, only checks that the model loads (packages without a self-test).
  virtual SelfTestStatus run(std::span<const uint8_t> model, std::span<const uint8_t> input,
                             ota::Digest& output_sha256) = 0;

 protected:
  ~ModelSelfTest() = default;
};

}  // namespace tinyedge::app
