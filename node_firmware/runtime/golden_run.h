// One inference of a model straight from its bytes: load, plan the arena, copy the input in, run.
// The node's pre-activation self-test and `tinyedge package create` (which computes the expected
// output it signs into the manifest) both run exactly this, so the two can never disagree.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/runtime/status.h"

namespace tinyedge::runtime {

enum class GoldenStage : uint8_t {
  kDone,           // ran; `output` is the output tensor (in `arena`)
  kLoad,           // the model did not load or did not fit the arena (`status` says why)
  kInputMismatch,  // `input` is not exactly the size of the model's input tensor
  kInvoke,         // inference failed (`status` says why)
};

struct GoldenResult {
  GoldenStage stage = GoldenStage::kLoad;
  Status status = Status::kOk;
  std::span<const int8_t> output;  // valid while `arena` is untouched
};

// With an empty `input` only loads and plans (a model without a golden vector).
[[nodiscard]] GoldenResult run_golden(std::span<const uint8_t> model_bytes, std::span<const uint8_t> input,
                                      std::span<uint8_t> arena);

}  // namespace tinyedge::runtime
