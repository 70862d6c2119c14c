// The rollout service's view of the real gateway: nodes, groups and stored inference results read
// through a read connection of the gateway's store of its own, downlinks through its router.
#pragma once
#include <memory>
#include <string>

#include "gateway/daemon.h"
#include "gateway/rollout/fleet.h"
#include "gateway/store/query.h"

namespace tinyedge::rollout {

class GatewayFleet final : public Fleet {
 public:
  GatewayFleet(gateway::Gateway& gateway, std::unique_ptr<gateway::Query> query);
  ~GatewayFleet() override;

  std::vector<FleetNode> nodes() override;
  bool send(const std::string& node_id, const tinyedge_v1_Downlink& downlink) override;
  size_t downlink_backlog(const std::string& node_id) override;
  LinkShape link_shape(const std::string& node_id) override;
  std::vector<InferenceRow> results_since(int64_t& cursor, size_t limit) override;
  int64_t results_cursor() override;

 private:
  template <typename F>
  auto guarded(const char* what, F&& f) -> decltype(f());

  gateway::Gateway& gateway_;
  std::unique_ptr<gateway::Query> query_;
};

}  // namespace tinyedge::rollout
