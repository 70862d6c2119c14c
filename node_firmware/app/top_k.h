// Top-k classes of an int8 output tensor, with scores quantised to 0..255.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace tinyedge::app {

struct ClassScore {
  uint16_t label;
  uint8_t score;
};

// Score of one output value: q - zero_point clamped to 0..255 (exact for TFLite int8 softmax).
uint8_t quantised_score(int8_t q, int32_t zero_point);

// Writes the min(out.size(), output.size()) best classes, best first; equal values keep index
// order so the result is deterministic. Returns how many were written.
size_t top_k(std::span<const int8_t> output, int32_t zero_point, std::span<ClassScore> out);

}  // namespace tinyedge::app
