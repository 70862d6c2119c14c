// GET /api/v1/drift (what each model version and node group is watched for, and the alarms) and
// POST /api/v1/drift/rebaseline (an operator accepts a watch's new distribution as normal).
#include <chrono>

#include "dashboard_api/dashboard_api.h"
#include "dashboard_api/prometheus.h"
#include "gateway/drift/drift_monitor.h"

namespace tinyedge::dashboard {
namespace {

nlohmann::json divergence_json(const drift::Divergence& d) {
  return {{"jsd_bits", d.jsd}, {"bound_bits", d.bound}, {"noise_floor_bits", d.floor}, {"over", d.over()}};
}

nlohmann::json shift_json(const drift::InputShift& s) {
  return {{"baseline_steps", s.baseline}, {"window_steps", s.window},     {"shift_steps", s.shift},
          {"bound_steps", s.bound},       {"noise_floor_steps", s.floor}, {"over", s.over()}};
}

bool is_input(drift::DriftKind kind) {
  return kind == drift::DriftKind::kInputMean || kind == drift::DriftKind::kInputStddev;
}

// The input statistics of a watch's telemetry periods; null when none of its nodes reports them
// (neither since the start nor in the baseline the gateway stored before it).
nlohmann::json input_json(const drift::InputReading& r) {
  if (r.periods == 0 && r.baseline_periods == 0) return nullptr;
  return {{"periods", r.periods},
          {"baseline_periods", r.baseline_periods},
          {"window_periods", r.window_periods},
          {"judged", r.judged},
          {"mean", shift_json(r.mean)},
          {"stddev", shift_json(r.stddev)},
          {"window_means", r.window_means},
          {"window_stddevs", r.window_stddevs}};
}

nlohmann::json key_json(const drift::DriftKey& key, const LabelList& labels) {
  nlohmann::json j = {{"model_id", key.model_id}, {"version", key.version}, {"group", key.group}};
  if (labels) j["label_names"] = *labels;
  return j;
}

// Label histogram as [{label, name, share}], shares of the histogram's total.
nlohmann::json label_mix(const std::map<uint32_t, uint64_t>& histogram, const LabelList& labels) {
  double total = 0;
  for (const auto& [label, n] : histogram) total += static_cast<double>(n);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [label, n] : histogram) {
    nlohmann::json entry = {{"share", total > 0 ? static_cast<double>(n) / total : 0.0}, {"count", n}};
    if (label == drift::DriftDetector::kOverflowLabel) {
      entry["label"] = nullptr;
      entry["name"] = "(other labels)";
    } else {
      entry["label"] = label;
      entry["name"] = label_name(labels, label);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

nlohmann::json score_shares(const std::vector<uint64_t>& bins) {
  double total = 0;
  for (uint64_t n : bins) total += static_cast<double>(n);
  nlohmann::json out = nlohmann::json::array();
  for (uint64_t n : bins) out.push_back(total > 0 ? static_cast<double>(n) / total : 0.0);
  return out;
}

}  // namespace

std::string drift_prometheus(const drift::DriftMonitor& monitor) {
  PrometheusWriter w;
  const auto watches = monitor.watches();
  const auto alerts = monitor.alerts();
  auto labels = [](const drift::DriftKey& key) -> PrometheusWriter::Labels {
    return {{"model_id", std::to_string(key.model_id)}, {"version", std::to_string(key.version)}, {"group", key.group}};
  };
  w.header("tinyedge_drift_jsd_bits", "Divergence of the latest window from the baseline (label_mix or score)",
           "gauge");
  for (const auto& watch : watches) {
    for (auto [kind, d] : {std::pair{"label_mix", watch.reading.label}, std::pair{"score", watch.reading.score}}) {
      auto l = labels(watch.key);
      l.emplace_back("kind", kind);
      w.sample("tinyedge_drift_jsd_bits", l, d.jsd);
    }
  }
  w.header("tinyedge_drift_bound_bits", "The divergence above which a verdict counts as drift (bound + noise floor)",
           "gauge");
  for (const auto& watch : watches) {
    for (auto [kind, d] : {std::pair{"label_mix", watch.reading.label}, std::pair{"score", watch.reading.score}}) {
      auto l = labels(watch.key);
      l.emplace_back("kind", kind);
      w.sample("tinyedge_drift_bound_bits", l, d.bound);
    }
  }
  w.header("tinyedge_drift_input_shift_steps",
           "Window minus baseline of the input's per-period mean or standard deviation (int8 steps; input_mean, "
           "input_stddev)",
           "gauge");
  for (const auto& watch : watches) {
    if (!watch.input.judged) continue;
    for (auto [kind, s] : {std::pair{"input_mean", watch.input.mean}, std::pair{"input_stddev", watch.input.stddev}}) {
      auto l = labels(watch.key);
      l.emplace_back("kind", kind);
      w.sample("tinyedge_drift_input_shift_steps", l, s.shift);
    }
  }
  w.header("tinyedge_drift_input_bound_steps",
           "The input shift above which a verdict counts as drift (bound + noise floor)", "gauge");
  for (const auto& watch : watches) {
    if (!watch.input.judged) continue;
    for (auto [kind, s] : {std::pair{"input_mean", watch.input.mean}, std::pair{"input_stddev", watch.input.stddev}}) {
      auto l = labels(watch.key);
      l.emplace_back("kind", kind);
      w.sample("tinyedge_drift_input_bound_steps", l, s.bound);
    }
  }
  w.header("tinyedge_drift_alarm", "1 while a drift alarm is active for this watch and kind", "gauge");
  for (const auto& watch : watches) {
    for (auto kind : {drift::DriftKind::kLabelMix, drift::DriftKind::kScore, drift::DriftKind::kInputMean,
                      drift::DriftKind::kInputStddev}) {
      if (is_input(kind) && watch.input.periods == 0) continue;
      bool active = false;
      for (const auto& a : alerts) active = active || (a.key == watch.key && a.kind == kind && a.cleared_ms == 0);
      auto l = labels(watch.key);
      l.emplace_back("kind", drift::to_string(kind));
      w.sample("tinyedge_drift_alarm", l, active ? 1 : 0);
    }
  }
  return w.take();
}

void DashboardApi::add_drift_routes() {
  router_.add(
      {.method = Method::kGet,
       .pattern = "/api/v1/drift",
       .role = Role::kViewer,
       .tag = "drift",
       .summary = "Drift watches per model version and node group (baseline vs latest window of label mix and "
                  "top-1 score, with bound and noise floor; of the input's mean and standard deviation where nodes "
                  "report them in Telemetry) and the alarms raised, newest first",
       .handler = [this](const RouteContext&) {
         if (!services_.drift) throw ApiError(503, "drift_off", "drift alarms are off (config drift.enabled)");
         nlohmann::json watches = nlohmann::json::array();
         for (const auto& w : services_.drift->watches()) {
           const LabelList labels = catalog_.labels(w.key.model_id, w.key.version);
           const auto& r = w.reading;
           watches.push_back({{"key", key_json(w.key, labels)},
                              {"state", drift::to_string(r.state)},
                              {"results", r.results},
                              {"baseline_results", r.baseline_results},
                              {"window_results", r.window_results},
                              {"first_ms", w.first_ms},
                              {"last_ms", w.last_ms},
                              {"label_mix", divergence_json(r.label)},
                              {"score", divergence_json(r.score)},
                              {"baseline_labels", label_mix(r.baseline_labels, labels)},
                              {"window_labels", label_mix(r.window_labels, labels)},
                              {"score_bin_width", 256 / drift::kScoreBins},
                              {"baseline_scores", score_shares(r.baseline_scores)},
                              {"window_scores", score_shares(r.window_scores)},
                              {"input", input_json(w.input)}});
         }
         nlohmann::json alerts = nlohmann::json::array();
         for (const auto& a : services_.drift->alerts()) {
           alerts.push_back(
               {{"id", a.id},
                {"key", key_json(a.key, catalog_.labels(a.key.model_id, a.key.version))},
                {"kind", drift::to_string(a.kind)},
                {"active", a.cleared_ms == 0},
                {"raised_ms", a.raised_ms},
                {"cleared_ms", a.cleared_ms ? nlohmann::json(a.cleared_ms) : nlohmann::json(nullptr)},
                {"cleared_by", a.cleared_by},
                {"results_at_raise", a.results_at_raise},
                {"periods_at_raise", a.periods_at_raise},
                {"at_raise", is_input(a.kind) ? shift_json(a.input_at_raise) : divergence_json(a.at_raise)}});
         }
         return json_response(200, nlohmann::json{{"watches", std::move(watches)}, {"alerts", std::move(alerts)}});
       }});
  router_.add(
      {.method = Method::kPost,
       .pattern = "/api/v1/drift/rebaseline",
       .role = Role::kOperator,
       .tag = "drift",
       .summary =
           "Learn a watch's baseline again from its next results (the new distribution is normal); clears its alarms",
       .params = {{.name = "model_id",
                   .type = ParamType::kInteger,
                   .description = "model id",
                   .required = true,
                   .min = 0,
                   .max = 4294967295.0},
                  {.name = "version",
                   .type = ParamType::kInteger,
                   .description = "model version",
                   .required = true,
                   .min = 0,
                   .max = 4294967295.0},
                  {.name = "group", .type = ParamType::kLabel, .description = "node group (absent: ungrouped nodes)"}},
       .handler = [this](const RouteContext& c) {
         if (!services_.drift) throw ApiError(503, "drift_off", "drift alarms are off (config drift.enabled)");
         const drift::DriftKey key{static_cast<uint32_t>(*c.params.integer("model_id")),
                                   static_cast<uint32_t>(*c.params.integer("version")),
                                   c.params.str("group").value_or("")};
         const int64_t now =
             std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                 .count();
         if (!services_.drift->rebaseline(key, now))
           throw ApiError(404, "not_found", "no drift watch for " + drift::to_string(key));
         return json_response(200, nlohmann::json{{"rebaselined", key_json(key, nullptr)}});
       }});
}

}  // namespace tinyedge::dashboard
