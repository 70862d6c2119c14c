// Connects the /models and /rollouts routes to the gateway's rollout service (RolloutControl),
// mapping its errors to HTTP statuses and its views to the JSON shapes of gateway/rollout.
#pragma once
#include "dashboard_api/rollout_port.h"
#include "gateway/rollout/rollout_api.h"

namespace tinyedge::dashboard {

class RolloutControlPort : public RolloutPort {
 public:
  explicit RolloutControlPort(rollout::RolloutControl& control) : control_(control) {}
  nlohmann::json list_models() override;
  nlohmann::json add_model(std::span<const uint8_t> package) override;
  std::vector<uint8_t> model_payload(int64_t registry_id) override;
  nlohmann::json list_rollouts() override;
  nlohmann::json get_rollout(int64_t id) override;
  nlohmann::json start_rollout(const nlohmann::json& request) override;
  nlohmann::json pause(int64_t id) override;
  nlohmann::json resume(int64_t id) override;
  nlohmann::json abort(int64_t id, bool rollback) override;
  nlohmann::json cancel_node(int64_t id, const std::string& node_id) override;
  nlohmann::json rollout_of_node(const std::string& node_id) override;

 private:
  rollout::RolloutControl& control_;
};

}  // namespace tinyedge::dashboard
