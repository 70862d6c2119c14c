#include "gateway/rollout/rollout_store.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "gateway/rollout/rollout_json.h"

namespace tinyedge::rollout {

using json = nlohmann::json;

std::string join_u32(const std::vector<uint32_t>& v) {
  std::string out;
  for (uint32_t x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}

std::vector<uint32_t> split_u32(const std::string& s) {
  std::vector<uint32_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(static_cast<uint32_t>(std::stoul(item)));
  }
  return out;
}

std::string strategy_to_json(const Strategy& s) {
  json j = {
      {"canary", s.canary.to_string()},
      {"waves", s.waves},
      {"max_failures", s.max_failures.to_string()},
      {"soak_ms", s.soak_ms},
      {"max_concurrent", s.max_concurrent},
      {"node_timeout_ms", s.node_timeout_ms},
      {"deadline_ms", s.deadline_ms},
      {"gate", to_json(s.gate)},
  };
  return j.dump();
}

Strategy strategy_from_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::invalid_argument("strategy: not a JSON object");
  Strategy s;
  try {
    if (j.contains("canary")) s.canary = parse_count_or_percent(j["canary"].get<std::string>(), "canary");
    if (j.contains("waves")) s.waves = j["waves"].get<std::vector<double>>();
    if (j.contains("max_failures")) {
      s.max_failures = parse_count_or_percent(j["max_failures"].get<std::string>(), "max_failures");
    }
    s.soak_ms = j.value("soak_ms", s.soak_ms);
    s.max_concurrent = j.value("max_concurrent", s.max_concurrent);
    s.node_timeout_ms = j.value("node_timeout_ms", s.node_timeout_ms);
    s.deadline_ms = j.value("deadline_ms", s.deadline_ms);
    if (j.contains("gate")) read_gate_bounds(j["gate"], s.gate);
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("strategy: ") + e.what());
  }
  validate(s);
  return s;
}

}  // namespace tinyedge::rollout
