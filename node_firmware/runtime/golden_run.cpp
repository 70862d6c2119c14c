#include "node_firmware/runtime/golden_run.h"

#include <cstring>

#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::runtime {

GoldenResult run_golden(std::span<const uint8_t> model_bytes, std::span<const uint8_t> input,
                        std::span<uint8_t> arena) {
  GoldenResult result;
  Model model;
  result.status = Model::load(model_bytes, model);
  if (result.status != Status::kOk) return result;
  Interpreter interpreter;
  result.status = interpreter.init(model, arena);
  if (result.status != Status::kOk) return result;
  if (input.empty()) {
    result.stage = GoldenStage::kDone;
    return result;
  }
  const auto tensor = interpreter.input();
  if (tensor.size() != input.size()) {
    result.stage = GoldenStage::kInputMismatch;
    return result;
  }
  std::memcpy(tensor.data(), input.data(), input.size());
  result.status = interpreter.invoke();
  if (result.status != Status::kOk) {
    result.stage = GoldenStage::kInvoke;
    return result;
  }
  result.stage = GoldenStage::kDone;
  result.output = interpreter.output();
  return result;
}

}  // namespace tinyedge::runtime
