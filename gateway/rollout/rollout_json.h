// JSON shapes of rollouts and models on the REST API, shared by the dashboard routes and the CLI.
#pragma once
#include <nlohmann/json.hpp>

#include "gateway/rollout/rollout_api.h"

namespace tinyedge::rollout {

nlohmann::json to_json(const ModelRow& model);
// The quality gate's bounds, one shape for the REST API and the rollout store alike.
nlohmann::json to_json(const GateBounds& gate);
// Sets the bounds `gate` names and keeps the others; throws std::invalid_argument naming an
// unknown or mistyped field.
void read_gate_bounds(const nlohmann::json& gate, GateBounds& out);
nlohmann::json to_json(const RolloutView& view);
// {"model_ref": 3} or {"model_id": 7, "version": 2}, "target", "canary", "waves" ("25,50,100" or
// [25,50,100]), "max_failures", "soak", "max_concurrent", "node_timeout", "deadline", "gate": {...}.
// Throws RolloutApiError(kBadRequest) naming the bad field.
RolloutRequest rollout_request_from_json(const nlohmann::json& body);
nlohmann::json to_json(const RolloutRequest& request);

}  // namespace tinyedge::rollout
