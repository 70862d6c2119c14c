// Offline arena planning: place every activation buffer at an offset so that buffers live at the
// same time never share bytes, except where an op may write over its dying input (in_place.h).
#pragma once
#include <cstdint>
#include <vector>

namespace tinyedge::model {

struct PlanBuffer {
  uint32_t bytes = 0;
  int first = 0;       // first op step it is live (written, or 0 for the graph input)
  int last = 0;        // last op step it is live (read, or past the end for the graph output)
  uint32_t align = 1;  // its offset's alignment: the element size up to 4 (the loader checks it)
};

// The output buffer of op step `step` may overlap input buffer `input` (which dies there):
// windowed ops with output_offset <= input_offset - gap; elementwise ops only at equal offsets.
struct InPlaceRule {
  int input = 0;
  int output = 0;
  bool exact = false;  // elementwise: offsets must be equal
  int64_t gap = 0;     // windowed: input_offset - output_offset >= gap
};

struct Plan {
  std::vector<uint32_t> offsets;
  uint32_t arena_bytes = 0;
};

Plan plan_arena(const std::vector<PlanBuffer>& buffers, const std::vector<InPlaceRule>& rules);

}  // namespace tinyedge::model
