// ModelSelfTest over the TinyEdge runtime: load the .tem in place, run the golden input once in
// a caller-provided arena, hash the output tensor.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/app/model_self_test.h"
#include "node_firmware/app/speech_model.h"
#include "node_firmware/runtime/status.h"

namespace tinyedge::app {

class RuntimeSelfTest final : public ModelSelfTest {
 public:
  // `arena` is the RAM the node gives models (4-byte aligned); the running model is not using it
  // during the self-test, or the port passes a separate one.
  explicit RuntimeSelfTest(std::span<uint8_t> arena) : arena_(arena) {}

  // What the node can run before a model (its microphone, detector RAM): a model whose front-end
  // record does not fit it fails the self-test (default: no microphone, so speech models fail).
  void set_speech_capability(const SpeechCapability& capability) { speech_ = capability; }

  SelfTestStatus run(std::span<const uint8_t> model, std::span<const uint8_t> input,
                     ota::Digest& output_sha256) override;

  runtime::Status last_status() const { return last_status_; }
  SpeechModelStatus last_speech_status() const { return last_speech_; }

 private:
  std::span<uint8_t> arena_;
  runtime::Status last_status_ = runtime::Status::kOk;
  SpeechCapability speech_{};
  SpeechModelStatus last_speech_ = SpeechModelStatus::kNoFrontEnd;
};

}  // namespace tinyedge::app
