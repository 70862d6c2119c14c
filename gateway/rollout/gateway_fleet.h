// The rollout service's view of the real gateway: nodes, groups and stored inference results read
// from the gateway's SQLite file (a read-only connection of its own), downlinks through its router.
#pragma once
#include <memory>
#include <string>

#include "gateway/daemon.h"
#include "gateway/rollout/fleet.h"

namespace tinyedge::rollout {

class GatewayFleet final : public Fleet {
 public:
  GatewayFleet(gateway::Gateway& gateway, const std::string& db_path);  // throws StoreError
  ~GatewayFleet() override;

  std::vector<FleetNode> nodes() override;
  bool send(const std::string& node_id, const tinyedge_v1_Downlink& downlink) override;
  size_t downlink_backlog(const std::string& node_id) override;
  std::vector<InferenceRow> results_since(int64_t& cursor, size_t limit) override;
  int64_t results_cursor() override;

 private:
  struct Impl;
  gateway::Gateway& gateway_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tinyedge::rollout
