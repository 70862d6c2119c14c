#include "gateway/rollout/rollout_json.h"

namespace tinyedge::rollout {

using json = nlohmann::json;

json to_json(const ModelRow& m) {
  json deltas = json::array();
  for (const DeltaRow& d : m.deltas) {
    deltas.push_back({{"id", d.id},
                      {"base_sha256", d.base_sha256},
                      {"base_ref", d.base_ref ? json(d.base_ref) : json(nullptr)},
                      {"base_version", d.base_ref ? json(d.base_version) : json(nullptr)},
                      {"wire_size", d.wire_size},
                      {"uploaded_ms", d.uploaded_ms}});
  }
  return {{"id", m.id},
          {"model_id", m.model_id},
          {"version", m.version},
          {"name", m.name},
          {"payload_size", m.payload_size},
          {"payload_sha256", m.payload_sha256},
          {"key_id", m.key_id},
          {"hardware", m.hardware},
          {"created_at", m.created_at},
          {"uploaded_ms", m.uploaded_ms},
          {"deltas", std::move(deltas)}};
}

json to_json(const GateBounds& g) {
  return {{"enabled", g.enabled},
          {"min_samples", g.min_samples},
          {"max_mean_score_drop", g.max_mean_score_drop},
          {"max_label_jsd", g.max_label_jsd},
          {"max_p95_latency_increase", g.max_p95_latency_increase},
          {"max_error_rate_increase", g.max_error_rate_increase},
          {"max_disagreement", g.max_disagreement},
          {"min_shared_samples", g.min_shared_samples}};
}

void read_gate_bounds(const json& gate, GateBounds& g) {
  if (!gate.is_object()) throw std::invalid_argument("gate: expected an object");
  try {
    for (const auto& [key, value] : gate.items()) {
      if (key == "enabled") g.enabled = value.get<bool>();
      else if (key == "min_samples") g.min_samples = value.get<uint32_t>();
      else if (key == "max_mean_score_drop") g.max_mean_score_drop = value.get<double>();
      else if (key == "max_label_jsd") g.max_label_jsd = value.get<double>();
      else if (key == "max_p95_latency_increase") g.max_p95_latency_increase = value.get<double>();
      else if (key == "max_error_rate_increase") g.max_error_rate_increase = value.get<double>();
      else if (key == "max_disagreement") g.max_disagreement = value.get<double>();
      else if (key == "min_shared_samples") g.min_shared_samples = value.get<uint32_t>();
      else throw std::invalid_argument("gate: unknown field '" + key + "'");
    }
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("gate: ") + e.what());
  }
}

namespace {

json counts_json(const std::map<NodeState, uint32_t>& counts) {
  json out = json::object();
  for (int i = 0; i <= static_cast<int>(NodeState::kCancelled); ++i) {
    auto state = static_cast<NodeState>(i);
    auto it = counts.find(state);
    out[std::string(to_string(state))] = it == counts.end() ? 0u : it->second;
  }
  return out;
}

}  // namespace

json to_json(const RolloutView& v) {
  const RolloutRecord& r = v.record;
  json phases = json::array();
  for (size_t i = 0; i < v.phases.size(); ++i) {
    const PhaseSummary& p = v.phases[i];
    phases.push_back({{"name", p.name},
                      {"size", p.size},
                      {"counts", counts_json(p.counts)},
                      {"bytes_written", p.bytes_written},
                      {"total_bytes", p.total_bytes},
                      {"current", i == r.phase}});
  }
  json out = {{"id", r.id},
              {"state", std::string(to_string(r.state))},
              {"reason", r.reason},
              {"model_ref", r.package.registry_id},
              {"model_id", r.package.model_id},
              {"version", r.package.version},
              {"previous_version", r.previous.version},
              {"previous_ref", r.previous.registry_id},
              {"target", r.target},
              {"target_size", v.target_size},
              {"strategy", json::parse(strategy_to_json(r.strategy))},
              {"phase", v.phase_name},
              {"phase_index", r.phase},
              {"phases", phases},
              {"counts", counts_json(v.counts)},
              {"failures", v.failures},
              {"created_ms", r.created_at},
              {"updated_ms", r.updated_at},
              {"deadline_ms", r.deadline_at},
              {"soak_until_ms", r.soak_until},
              {"gate", r.gate_message}};
  if (!v.nodes.empty()) {
    json nodes = json::array();
    for (const NodeRecord& n : v.nodes) {
      nodes.push_back({{"node_id", n.node_id},
                       {"phase", n.phase},
                       {"state", std::string(to_string(n.state))},
                       {"reason", n.reason},
                       {"bytes_written", n.bytes_written},
                       {"total_bytes", n.total_bytes},
                       {"attempts", n.attempts},
                       {"offered_ms", n.offered_at},
                       {"finished_ms", n.finished_at},
                       {"rollback", n.rollback},
                       {"from_version", n.from_version}});
    }
    out["nodes"] = nodes;
  }
  return out;
}

RolloutRequest rollout_request_from_json(const json& body) {
  auto bad = [](const std::string& what) { return RolloutApiError(RolloutApiError::Kind::kBadRequest, what); };
  if (!body.is_object()) throw bad("rollout request: expected a JSON object");
  RolloutRequest r;
  try {
    for (const auto& [key, value] : body.items()) {
      if (key == "model_ref") r.model_ref = value.get<int64_t>();
      else if (key == "model_id") r.model_id = value.get<uint32_t>();
      else if (key == "version") r.version = value.get<uint32_t>();
      else if (key == "target") r.target = value.get<std::string>();
      else if (key == "canary") r.canary = value.is_number() ? std::to_string(value.get<int64_t>()) : value.get<std::string>();
      else if (key == "max_failures") {
        r.max_failures = value.is_number() ? std::to_string(value.get<int64_t>()) : value.get<std::string>();
      } else if (key == "waves") {
        if (value.is_array()) {
          r.waves.clear();
          for (const auto& w : value) r.waves += (r.waves.empty() ? "" : ",") + json(w.get<double>()).dump();
        } else {
          r.waves = value.get<std::string>();
        }
      } else if (key == "soak") r.soak = value.get<std::string>();
      else if (key == "max_concurrent") r.max_concurrent = value.get<uint32_t>();
      else if (key == "node_timeout") r.node_timeout = value.get<std::string>();
      else if (key == "deadline") r.deadline = value.get<std::string>();
      else if (key == "gate") {
        try {
          read_gate_bounds(value, r.gate);
        } catch (const std::invalid_argument& e) {
          throw bad(e.what());
        }
      } else {
        throw bad("rollout request: unknown field '" + key + "'");
      }
    }
  } catch (const json::exception& e) {
    throw bad(std::string("rollout request: ") + e.what());
  }
  if (r.model_ref == 0 && (r.model_id == 0 || r.version == 0)) {
    throw bad("rollout request: give model_ref, or model_id and version");
  }
  return r;
}

json to_json(const RolloutRequest& r) {
  json out = {{"target", r.target},         {"canary", r.canary},          {"waves", r.waves},
              {"max_failures", r.max_failures}, {"soak", r.soak},          {"max_concurrent", r.max_concurrent},
              {"node_timeout", r.node_timeout}, {"deadline", r.deadline}};
  if (r.model_ref) out["model_ref"] = r.model_ref;
  if (r.model_id) out["model_id"] = r.model_id;
  if (r.version) out["version"] = r.version;
  out["gate"] = to_json(r.gate);
  return out;
}

}  // namespace tinyedge::rollout
