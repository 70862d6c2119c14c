// The one call the gateway executable makes to serve the dashboard beside the daemon: builds the API from the
// gateway's config (api.listen, api.port, api.tokens as "sha256:<hex>"), its store and
// counters, and the rollout service and drift watch when they run. Throws std::invalid_argument for a bad token
// entry and boost::system::system_error when the port cannot be bound.
#pragma once
#include <boost/asio/io_context.hpp>
#include <memory>

#include "dashboard_api/dashboard_api.h"
#include "gateway/daemon.h"
#include "gateway/rollout/rollout_api.h"

namespace tinyedge::dashboard {

std::unique_ptr<DashboardApi> start_dashboard(boost::asio::io_context& io, gateway::Gateway& gateway,
                                              rollout::RolloutControl* rollouts, drift::DriftMonitor* drift = nullptr);

}  // namespace tinyedge::dashboard
