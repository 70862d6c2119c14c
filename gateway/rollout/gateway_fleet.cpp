#include "gateway/rollout/gateway_fleet.h"

#include "gateway/rollout/rollout_store.h"

namespace tinyedge::rollout {

GatewayFleet::GatewayFleet(gateway::Gateway& gateway, std::unique_ptr<gateway::Query> query)
    : gateway_(gateway), query_(std::move(query)) {}

GatewayFleet::~GatewayFleet() = default;

// The store's errors leave as the rollout service's own, naming the read that failed.
template <typename F>
auto GatewayFleet::guarded(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    throw StoreError(std::string("rollout fleet query (") + what + "): " + e.what());
  }
}

std::vector<FleetNode> GatewayFleet::nodes() {
  return guarded("nodes", [&] {
    std::vector<FleetNode> out;
    for (auto& row : query_->nodes()) {
      FleetNode n;
      n.node_id = std::move(row.node_id);
      n.online = row.online;
      n.hardware = std::move(row.hardware);
      n.model_id = row.model_id;
      n.model_version = row.model_version;
      n.groups = std::move(row.groups);
      out.push_back(std::move(n));
    }
    return out;
  });
}

bool GatewayFleet::send(const std::string& node_id, const tinyedge_v1_Downlink& downlink) {
  return gateway_.send_downlink(node_id, downlink);
}

size_t GatewayFleet::downlink_backlog(const std::string& node_id) { return gateway_.router().backlog_of(node_id); }

LinkShape GatewayFleet::link_shape(const std::string& node_id) {
  const gateway::BulkShape shape = gateway_.router().bulk_shape_of(node_id);
  return {shape.chunk_bytes, shape.window, shape.max_backlog};
}

std::vector<InferenceRow> GatewayFleet::results_since(int64_t& cursor, size_t limit) {
  return guarded("results", [&] {
    std::vector<InferenceRow> out;
    for (const auto& e : query_->events_after(cursor, limit)) {
      cursor = e.id;
      out.push_back({e.node_id, e.model_id, e.model_version, e.label, e.score, e.latency_us, e.sample_id});
    }
    return out;
  });
}

int64_t GatewayFleet::results_cursor() {
  return guarded("cursor", [&] { return query_->last_event_id(); });
}

}  // namespace tinyedge::rollout
