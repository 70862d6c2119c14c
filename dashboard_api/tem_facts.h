// What the dashboard shows of a model that its package manifest does not say: the class labels,
// name, arena and input description from the .tem header. Read from a registered package's
// payload with every offset checked against its length (a damaged payload gives no facts, never a
// read out of bounds); the runtime's own loader is not needed for this.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tinyedge::dashboard {

struct TemFacts {
  uint32_t model_id = 0, version = 0;
  std::string name;
  std::string input_description;
  uint32_t arena_bytes = 0;
  uint32_t weights_bytes = 0;
  std::vector<std::string> labels;  // one per output class; may be empty
};

// nullopt when `payload` is not a .tem this reader understands, or a string lies outside it.
std::optional<TemFacts> read_tem_facts(std::span<const uint8_t> payload);

}  // namespace tinyedge::dashboard
