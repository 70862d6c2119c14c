#include "deploy/package/package_model_info.h"

#include <cstring>
#include <vector>

#include "deploy/command_registry.h"

#if defined(TINYEDGE_HAVE_RUNTIME)
#include "node_firmware/app/runtime_self_test.h"
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
  // The node runs exactly this code (app::RuntimeSelfTest) on the golden input.
  app::RuntimeSelfTest self_test(std::span(reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 4));
  ota::Digest digest{};
  const app::SelfTestStatus status = self_test.run(as_bytes(words, tem.size()), input, digest);
  if (status != app::SelfTestStatus::kOk) {
    std::string message = std::string("self-test: ") + app::to_string(status);
    if (self_test.last_status() != runtime::Status::kOk)
      message += std::string(" (") + runtime::to_string(self_test.last_status()) + ")";
    if (status == app::SelfTestStatus::kInputMismatch) message += ": the input file must be exactly the input tensor";
    throw CommandError(message);
  }
  return digest;
}
#else
ModelInfo read_model_info(std::span<const uint8_t>) { return {}; }

ota::Digest run_self_test(std::span<const uint8_t>, std::span<const uint8_t>) {
  throw CommandError("--self-test needs the runtime, which this build of tinyedge does not include");
}
#endif

}  // namespace tinyedge::deploy
