#include "dashboard_api/gate_view.h"

#include <algorithm>
#include <array>
#include <set>
#include <string>

#include "gateway/rollout/quality_gate.h"
#include "gateway/rollout/rollout_json.h"

namespace tinyedge::dashboard {
namespace {

struct Cohort {
  rollout::CohortStats stats;
  std::array<uint64_t, gateway::kScoreBins> score_histogram{};
  std::vector<uint32_t> latencies;
  std::set<std::string> nodes;
};

nlohmann::json cohort_json(const Cohort& c, const LabelList& labels) {
  nlohmann::json mix = nlohmann::json::array();
  for (const auto& [label, count] : c.stats.label_counts()) {
    mix.push_back(
        {{"label", label},
         {"label_name", label_name(labels, label)},
         {"count", count},
         {"share", c.stats.results() ? static_cast<double>(count) / static_cast<double>(c.stats.results()) : 0}});
  }
  return {{"results", c.stats.results()},
          {"nodes", c.nodes.size()},
          {"mean_probability", c.stats.mean_score()},
          {"labels", std::move(mix)},
          {"score_histogram", c.score_histogram},
          {"p50_latency_us", rollout::percentile(c.latencies, 0.50)},
          {"p95_latency_us", c.stats.p95_latency_us()}};
}

}  // namespace

nlohmann::json gate_view(const nlohmann::json& r, gateway::Query& query, const LabelList& labels) {
  const uint32_t model_id = r.value("model_id", 0u), version = r.value("version", 0u);
  std::set<std::string> members;
  if (r.contains("nodes"))
    for (const auto& n : r["nodes"]) members.insert(n.value("node_id", std::string()));
  rollout::GateBounds bounds;
  if (r.contains("strategy") && r["strategy"].contains("gate")) {
    try {
      rollout::read_gate_bounds(r["strategy"]["gate"], bounds);
    } catch (const std::invalid_argument&) {
      // Stored by an older gateway with other fields: the defaults stand.
    }
  }

  Cohort canary, control;
  gateway::EventFilter f;
  f.from_ms = r.value("created_ms", int64_t{0});
  f.limit = 10'000;
  size_t read = 0;
  bool truncated = false;
  for (;;) {
    const auto page = query.events(f);
    for (const auto& e : page.events) {
      if (e.model_id != model_id || !members.count(e.node_id)) continue;
      Cohort& c = e.model_version == version ? canary : control;
      c.stats.add_result(e.label, e.score, e.latency_us, e.sample_id);
      c.score_histogram[std::min<size_t>(e.score / 32, gateway::kScoreBins - 1)]++;
      c.latencies.push_back(e.latency_us);
      c.nodes.insert(e.node_id);
    }
    read += page.events.size();
    if (!page.next_cursor) break;
    if (read >= kGateMaxResults) {
      truncated = true;
      break;
    }
    f.before_id = page.next_cursor;
  }

  const auto v = rollout::evaluate_gate(bounds, canary.stats, control.stats);
  return {{"rollout", r.value("id", int64_t{0})},
          {"model_id", model_id},
          {"version", version},
          {"since_ms", f.from_ms.value_or(0)},
          {"truncated", truncated},
          {"bounds", rollout::to_json(bounds)},
          {"canary", cohort_json(canary, labels)},
          {"control", cohort_json(control, labels)},
          {"outcome", std::string(rollout::to_string(v.outcome))},
          {"message", v.message},
          {"engine_verdict", r.value("gate", std::string())},
          {"label_jsd", v.label_jsd},
          {"label_jsd_noise_floor", v.label_jsd_floor},
          {"label_jsd_bound", v.label_jsd_bound},
          {"mean_score_drop", v.mean_score_drop},
          {"p95_latency_increase", v.p95_latency_increase},
          {"disagreement", v.disagreement},
          {"shared_sample_ids", v.shared_sample_ids}};
}

}  // namespace tinyedge::dashboard
