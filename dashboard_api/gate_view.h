// The quality gate drawn: the two cohorts of a rollout as the inference log holds them (nodes of
// the rollout on its new version = canary, the rollout's other nodes = control), their label mix,
// score distribution and latency, and the gate's own arithmetic over them (rollout::evaluate_gate,
// the code the engine judges with): the label JSD against its noise floor and bound, the mean
// score drop and the p95 latency increase against theirs. The engine's verdict travels beside it
// (the rollout's "gate" text): the engine also counts reboots and failed inferences as errors,
// which the log of results does not hold.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "dashboard_api/model_catalog.h"
#include "gateway/store/query.h"

namespace tinyedge::dashboard {

// Results read per rollout at most (the newest): enough for the gate's sample sizes, bounded so a
// page view never scans the whole log.
inline constexpr size_t kGateMaxResults = 50'000;

// `rollout`: the JSON of GET /rollouts/{id} (with its nodes); `labels`: the names of the new
// model's labels (may be null).
nlohmann::json gate_view(const nlohmann::json& rollout, gateway::Query& query, const LabelList& labels);

}  // namespace tinyedge::dashboard
