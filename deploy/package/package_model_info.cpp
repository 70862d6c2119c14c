#include "deploy/package/package_model_info.h"

#include <cstring>
#include <vector>

#include "deploy/command_registry.h"

#if defined(TINYEDGE_HAVE_RUNTIME)
#include "node_firmware/runtime/golden_run.h"
#include "node_firmware/runtime/model.h"
#endif

namespace tinyedge::deploy {

#if defined(TINYEDGE_HAVE_RUNTIME)
namespace {

// The runtime reads the blob in place and wants it 4-byte aligned, as it is in a flash slot.
std::vector<uint32_t> aligned_copy(std::span<const uint8_t> bytes) {
  std::vector<uint32_t> words((bytes.size() + 3) / 4, 0);
  std::memcpy(words.data(), bytes.data(), bytes.size());
  return words;
}

std::span<const uint8_t> as_bytes(const std::vector<uint32_t>& words, size_t size) {
  return {reinterpret_cast<const uint8_t*>(words.data()), size};
}

}  // namespace

ModelInfo read_model_info(std::span<const uint8_t> tem) {
  const auto words = aligned_copy(tem);
  runtime::Model model;
  const runtime::Status status = runtime::Model::load(as_bytes(words, tem.size()), model);
  if (status != runtime::Status::kOk) throw CommandError(std::string("not a loadable .tem model: ") + runtime::to_string(status));
  ModelInfo info;
  info.known = true;
  info.model_id = model.model_id();
  info.version = model.version();
  info.name = std::string(model.name());
  info.arena_bytes = model.arena_bytes();
  return info;
}

ota::Digest run_self_test(std::span<const uint8_t> tem, std::span<const uint8_t> input) {
  const auto words = aligned_copy(tem);
  const ModelInfo info = read_model_info(tem);
  std::vector<uint32_t> arena((info.arena_bytes + 3) / 4 + 1, 0);
  // The node's self-test (app::RuntimeSelfTest) runs exactly this and hashes the output the same way.
  const runtime::GoldenResult result = runtime::run_golden(
      as_bytes(words, tem.size()), input, std::span(reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 4));
  switch (result.stage) {
    case runtime::GoldenStage::kDone: break;
    case runtime::GoldenStage::kLoad:
      throw CommandError(std::string("self-test: model does not load (") + runtime::to_string(result.status) + ")");
    case runtime::GoldenStage::kInputMismatch:
      throw CommandError("self-test: self-test input does not fit the model: the input file must be exactly the "
                         "input tensor");
    case runtime::GoldenStage::kInvoke:
      throw CommandError(std::string("self-test: inference failed (") + runtime::to_string(result.status) + ")");
  }
  return ota::sha256(std::span(reinterpret_cast<const uint8_t*>(result.output.data()), result.output.size()));
}
#else
ModelInfo read_model_info(std::span<const uint8_t>) { return {}; }

ota::Digest run_self_test(std::span<const uint8_t>, std::span<const uint8_t>) {
  throw CommandError("--self-test needs the runtime, which this build of tinyedge does not include");
}
#endif

}  // namespace tinyedge::deploy
