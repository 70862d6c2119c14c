#include "dashboard_api/dashboard_api.h"

#include "dashboard_api/openapi.h"
#include "dashboard_api/static_assets.h"

namespace tinyedge::dashboard {

TokenTable token_table_from_config(const std::vector<TokenConfig>& entries) {
  TokenTable table;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const std::string where = "api.tokens[" + std::to_string(i) + "]";
    constexpr std::string_view kPrefix = "sha256:";
    if (e.token.rfind(kPrefix, 0) != 0 || e.token.size() != kPrefix.size() + 64)
      throw std::invalid_argument(where + ".token: must be \"sha256:<64 hex digits>\", the SHA-256 of the bearer "
                                          "token (printf %s TOKEN | sha256sum), never the token itself");
    try {
      table.add(e.name.empty() ? where : e.name, e.role, e.token.substr(kPrefix.size()));
    } catch (const std::invalid_argument& ex) {
      throw std::invalid_argument(where + ": " + ex.what());
    }
  }
  return table;
}

DashboardApi::DashboardApi(boost::asio::io_context& io, DashboardOptions options, DashboardServices services)
    : options_(std::move(options)),
      services_(std::move(services)),
      queries_(services_.open_query, std::max(1u, options_.limits.handler_threads)),
      catalog_(services_.rollouts),
      router_(&options_.tokens) {
  add_system_routes();
  add_node_routes();
  add_event_routes();
  add_stats_routes();
  add_model_routes();
  add_rollout_routes();
  add_stream_routes();
  add_drift_routes();
  add_enroll_routes();
  router_.set_fallback(serve_static);
  openapi_ = openapi_document(router_, "1.0.0");
  server_ = std::make_unique<HttpServer>(io, router_, options_.limits, server_metrics_);
}

DashboardApi::~DashboardApi() { stop(); }

uint16_t DashboardApi::start() {
  port_ = server_->listen(options_.listen, options_.port);
  return port_;
}

void DashboardApi::stop() {
  if (server_) server_->stop();
}

RolloutPort& DashboardApi::rollouts() const {
  if (!services_.rollouts)
    throw ApiError(503, "unavailable", "the rollout engine is not running in this gateway");
  return *services_.rollouts;
}

}  // namespace tinyedge::dashboard
