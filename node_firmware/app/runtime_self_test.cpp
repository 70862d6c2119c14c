#include "node_firmware/app/runtime_self_test.h"

#include <cstring>

#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::app {

SelfTestStatus RuntimeSelfTest::run(std::span<const uint8_t> model_bytes, std::span<const uint8_t> input,
                                    ota::Digest& output_sha256) {
  runtime::Model model;
  last_status_ = runtime::Model::load(model_bytes, model);
  if (last_status_ != runtime::Status::kOk) return SelfTestStatus::kBadModel;
  runtime::Interpreter interpreter;
  last_status_ = interpreter.init(model, arena_);
  if (last_status_ != runtime::Status::kOk) return SelfTestStatus::kBadModel;
  if (input.empty()) return SelfTestStatus::kOk;  // no golden vector: loading is the whole check
  const auto tensor = interpreter.input();
  if (tensor.size() != input.size()) return SelfTestStatus::kInputMismatch;
  std::memcpy(tensor.data(), input.data(), input.size());
  last_status_ = interpreter.invoke();
  if (last_status_ != runtime::Status::kOk) return SelfTestStatus::kFailed;
  const auto output = interpreter.output();
  output_sha256 = ota::sha256(std::span(reinterpret_cast<const uint8_t*>(output.data()), output.size()));
  return SelfTestStatus::kOk;
}

}  // namespace tinyedge::app
