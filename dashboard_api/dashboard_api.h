// The dashboard API as the gateway daemon starts it: the REST routes over the store's read side,
// the gateway's counters and (when present) the rollout engine, served by HttpServer on the
// daemon's own io_context.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dashboard_api/auth.h"
#include "dashboard_api/http_server.h"
#include "dashboard_api/model_catalog.h"
#include "dashboard_api/query_pool.h"
#include "dashboard_api/rollout_port.h"
#include "dashboard_api/router.h"
#include "gateway/core/metrics.h"
#include "gateway/store/query.h"
#include "gateway/store/records.h"
#include "tinyedge.pb.h"

namespace tinyedge::drift {
class DriftMonitor;
}

namespace tinyedge::dashboard {

struct DashboardServices {
  QueryPool::Opener open_query;                                  // required
  const gateway::Metrics* gateway_metrics = nullptr;             // optional: /metrics adds them
  std::function<bool(const gateway::GroupsItem&)> set_groups;    // optional: PUT /nodes/{id}/groups
  std::shared_ptr<RolloutPort> rollouts;                         // optional: /models, /rollouts
  drift::DriftMonitor* drift = nullptr;                          // optional: /drift, drift metrics
  // optional: POST/DELETE /nodes/{id}/enrollment; false when the node cannot be reached now.
  std::function<bool(const std::string& node_id, const tinyedge_v1_EnrollCommand&)> send_enroll;
  // optional: POST /enrollment/share, one downlink per node of the group.
  std::function<bool(const std::string& node_id, const tinyedge_v1_EnrollShare&)> send_enroll_share;
};

// Label names for events, per node: the model's trained labels, then the node's enrolled classes
// at the indices the node gives them (trained + position). One per response: it reads each
// node's enrolled classes once.
class EnrolledNames {
 public:
  EnrolledNames(ModelCatalog& catalog, gateway::Query& query) : catalog_(catalog), query_(query) {}
  LabelList labels(const gateway::EventRow& e);

 private:
  ModelCatalog& catalog_;
  gateway::Query& query_;
  std::map<std::string, std::vector<gateway::EnrolledLabelRow>> enrolled_;
};

struct DashboardOptions {
  std::string listen = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free one
  ServerLimits limits;
  TokenTable tokens;
};

// Builds a token table from config entries whose token is "sha256:<64 hex>" (the hash of the
// bearer token; `printf %s TOKEN | sha256sum`). Plain tokens are refused: the config must not
// hold credentials. Throws std::invalid_argument naming the entry.
struct TokenConfig {
  std::string name, role, token;
};
TokenTable token_table_from_config(const std::vector<TokenConfig>& entries);

// The drift watches and alarms as Prometheus gauges (served by /metrics when drift is on).
std::string drift_prometheus(const drift::DriftMonitor& monitor);

class DashboardApi {
 public:
  DashboardApi(boost::asio::io_context& io, DashboardOptions options, DashboardServices services);
  ~DashboardApi();
  uint16_t start();  // returns the bound port
  void stop();
  uint16_t port() const { return port_; }  // the bound port once started
  const Router& router() const { return router_; }
  ServerMetrics& server_metrics() { return server_metrics_; }

 private:
  void add_system_routes();
  void add_node_routes();
  void add_event_routes();
  void add_stats_routes();
  void add_model_routes();
  void add_rollout_routes();
  void add_stream_routes();
  void add_drift_routes();
  void add_enroll_routes();
  ApiResponse send_enroll(const std::string& node_id, const tinyedge_v1_EnrollCommand& command);
  RolloutPort& rollouts() const;
  bool has_rollouts() const { return services_.rollouts != nullptr; }
  nlohmann::json model_view(nlohmann::json model, const std::vector<gateway::NodeRow>& nodes);

  DashboardOptions options_;
  DashboardServices services_;
  QueryPool queries_;
  ModelCatalog catalog_;
  ServerMetrics server_metrics_;
  Router router_;
  std::string openapi_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

}  // namespace tinyedge::dashboard
