// A .tem model as a C/C++ header, for firmware without a file system: the bytes as an aligned
// const array (placed in flash as .rodata and executed in place by the runtime) and the arena
// size the runtime needs, as constants.
#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace tinyedge::deploy {

struct CHeaderModel {
  std::string identifier;  // C identifier: the array is <identifier>, the constants <IDENTIFIER>_...
  std::string source;      // file name the header says it was made from
  std::string model_name;
  uint32_t model_id = 0, version = 0, arena_bytes = 0;
};

// Alignment of the array: the runtime reads the header and tensors in place (4 would do today).
inline constexpr unsigned kCHeaderAlignment = 16;

// "kws-v2.model" -> "kws_v2_model"; a leading digit gets "model_" in front.
std::string c_identifier(std::string_view text);

std::string c_header(const CHeaderModel& model, std::span<const uint8_t> bytes);

}  // namespace tinyedge::deploy
