// Wires the rollout service into the gateway daemon: its own store connection, the model registry
// with the fleet key(s), the uplink observer, and a timer on the gateway's io_context that runs the
// service whenever it asks (or an uplink / API call wakes it). With a store several gateways share
// (PostgreSQL), the service leads the rollouts only while this gateway holds the leader lease.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "gateway/daemon.h"
#include "gateway/rollout/gateway_fleet.h"
#include "gateway/rollout/rollout_service.h"
#include "gateway/store/leader_lease.h"

namespace tinyedge::rollout {

struct RolloutOptions {
  std::vector<std::string> fleet_public_keys;  // PEM files; packages must verify against one
  // PEM private key signing rollback grants ("" = none): a rollback-only key, never a fleet key
  // (nodes trust its public half for RollbackGrants only; refused at start if it is a fleet key).
  std::string grant_key;
  OtaServerConfig ota;
};

class RolloutRunner {
 public:
  // Throws (StoreError, RegistryError, ota::KeyError, PackageError) naming the problem.
  RolloutRunner(boost::asio::io_context& io, gateway::Gateway& gateway, RolloutOptions options);
  ~RolloutRunner();

  void start();  // restores unfinished rollouts, registers the observer, starts the timer
  void stop();
  RolloutControl& control() { return *service_; }
  RolloutService& service() { return *service_; }

 private:
  void arm(TimeMs at);
  void wake();
  // Several gateways on one store: lead the rollouts while holding the lease, follow otherwise.
  void check_lease(TimeMs now);

  boost::asio::io_context& io_;
  gateway::Gateway& gateway_;
  std::unique_ptr<RolloutStore> store_;
  std::unique_ptr<ModelRegistry> registry_;
  std::unique_ptr<GatewayFleet> fleet_;
  std::unique_ptr<RolloutService> service_;
  std::unique_ptr<gateway::LeaderLease> lease_;  // only when the store is shared
  TimeMs next_lease_check_ = 0;
  boost::asio::steady_timer timer_;
  std::shared_ptr<std::atomic<bool>> alive_;
  std::atomic<bool> wake_pending_{false};
};

}  // namespace tinyedge::rollout
