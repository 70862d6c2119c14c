// What the /models and /rollouts routes need from the rollout engine, in JSON terms so the HTTP
// side does not depend on the engine's types. The gateway wires an implementation in (see
// gateway/rollout); without one those routes answer 503. Methods throw ApiError (400/404/409)
// for requests the engine refuses, with the engine's reason as the message.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

namespace tinyedge::dashboard {

class RolloutPort {
 public:
  virtual ~RolloutPort() = default;
  virtual nlohmann::json list_models() = 0;
  // A signed package (.tep bytes); refused unless it verifies against the fleet key.
  virtual nlohmann::json add_model(std::span<const uint8_t> package) = 0;
  // The payload (.tem) of registry entry `registry_id` (404 when unknown).
  virtual std::vector<uint8_t> model_payload(int64_t registry_id) = 0;
  virtual nlohmann::json list_rollouts() = 0;
  virtual nlohmann::json get_rollout(int64_t id) = 0;  // includes per-wave progress
  // body: {"model_id":..,"version":.. | "model_ref":..,"target":"all|group:x|nodes:a,b","canary":..,"waves":..}
  virtual nlohmann::json start_rollout(const nlohmann::json& request) = 0;
  virtual nlohmann::json pause(int64_t id) = 0;
  virtual nlohmann::json resume(int64_t id) = 0;
  virtual nlohmann::json abort(int64_t id, bool rollback) = 0;
  // Takes one node out of the rollout (404 when the rollout does not target it, 409 when it has
  // activated or ended already).
  virtual nlohmann::json cancel_node(int64_t id, const std::string& node_id) = 0;
  // The unfinished (running or paused) rollout that still has `node_id` to update, for the node
  // page's "Cancel update": {"id", "state", "node_state"}, or null when none does.
  virtual nlohmann::json rollout_of_node(const std::string& node_id) = 0;
};

}  // namespace tinyedge::dashboard
