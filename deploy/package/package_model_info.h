// What `package create` needs to know about a .tem: its id, name and arena size, and the output
// of the golden self-test. With the runtime linked they come from the model itself.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "ota/sha256.h"

namespace tinyedge::deploy {

struct ModelInfo {
  bool known = false;  // false: the runtime is not built, the caller must give the values
  uint32_t model_id = 0;
  uint32_t version = 0;
  std::string name;
  uint32_t arena_bytes = 0;
};

// Throws CommandError if the runtime is built and refuses the model.
ModelInfo read_model_info(std::span<const uint8_t> tem);

// SHA-256 of the output the runtime produces for `input`; throws CommandError if the runtime is
// not built or the input does not fit the model.
ota::Digest run_self_test(std::span<const uint8_t> tem, std::span<const uint8_t> input);

}  // namespace tinyedge::deploy
