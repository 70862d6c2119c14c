#include "service/dashboard_wiring.h"

#include "dashboard_api/rollout_adapter.h"

namespace tinyedge::dashboard {

std::unique_ptr<DashboardApi> start_dashboard(boost::asio::io_context& io, gateway::Gateway& gateway,
                                              rollout::RolloutControl* rollouts, drift::DriftMonitor* drift) {
  const auto& api = gateway.config().api;
  DashboardOptions options;
  options.listen = api.listen;
  options.port = static_cast<uint16_t>(api.port);
  std::vector<TokenConfig> tokens;
  for (const auto& t : api.tokens) tokens.push_back({"", t.role, t.token});
  options.tokens = token_table_from_config(tokens);
  if (options.tokens.empty())
    gateway.log().warn("dashboard", "no api.tokens configured: every API route except /healthz answers 401");

  DashboardServices services;
  services.open_query = [&gateway] { return gateway.open_query(); };
  services.gateway_metrics = &gateway.metrics();
  services.set_groups = [&gateway](const gateway::GroupsItem& item) { return gateway.store().submit(item); };
  services.send_enroll = [&gateway](const std::string& node_id, const tinyedge_v1_EnrollCommand& command) {
    tinyedge_v1_Downlink down = tinyedge_v1_Downlink_init_zero;
    down.which_payload = tinyedge_v1_Downlink_enroll_tag;
    down.payload.enroll = command;
    return gateway.send_downlink(node_id, down);
  };
  services.send_enroll_share = [&gateway](const std::string& node_id, const tinyedge_v1_EnrollShare& share) {
    tinyedge_v1_Downlink down = tinyedge_v1_Downlink_init_zero;
    down.which_payload = tinyedge_v1_Downlink_enroll_share_tag;
    down.payload.enroll_share = share;
    return gateway.send_downlink(node_id, down);
  };
  if (rollouts) services.rollouts = std::make_shared<RolloutControlPort>(*rollouts);
  services.drift = drift;

  auto dashboard = std::make_unique<DashboardApi>(io, std::move(options), std::move(services));
  const uint16_t port = dashboard->start();
  gateway.log().info("dashboard", "serving", {{"url", "http://" + api.listen + ":" + std::to_string(port) + "/"},
                                              {"rollouts", rollouts ? "on" : "off"}});
  return dashboard;
}

}  // namespace tinyedge::dashboard
