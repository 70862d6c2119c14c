#include "node_firmware/app/runtime_self_test.h"

#include "node_firmware/runtime/golden_run.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::app {

SelfTestStatus RuntimeSelfTest::run(std::span<const uint8_t> model_bytes, std::span<const uint8_t> input,
                                    ota::Digest& output_sha256) {
  // The same run `tinyedge package create` made to compute the digest in the manifest.
  const runtime::GoldenResult result = runtime::run_golden(model_bytes, input, arena_);
  last_status_ = result.status;
  switch (result.stage) {
    case runtime::GoldenStage::kLoad:
      return SelfTestStatus::kBadModel;
    case runtime::GoldenStage::kInputMismatch:
      return SelfTestStatus::kInputMismatch;
    case runtime::GoldenStage::kInvoke:
      return SelfTestStatus::kFailed;
    case runtime::GoldenStage::kDone:
      break;
  }
  // The model runs; whether this node can feed it is the front-end record's question.
  runtime::Model model;
  if (runtime::Model::load(model_bytes, model) != runtime::Status::kOk) return SelfTestStatus::kBadModel;
  last_speech_ = check_speech_model(model, speech_).status;
  if (last_speech_ != SpeechModelStatus::kOk && last_speech_ != SpeechModelStatus::kNoFrontEnd) {
    return SelfTestStatus::kFrontEndUnsupported;
  }
  if (input.empty()) return SelfTestStatus::kOk;  // no golden vector: loading is the whole check
  output_sha256 = ota::sha256(std::span(reinterpret_cast<const uint8_t*>(result.output.data()), result.output.size()));
  return SelfTestStatus::kOk;
}

}  // namespace tinyedge::app
