#include "gateway/rollout/rollout_runner.h"

#include <boost/asio/post.hpp>
#include <chrono>

#include "gateway/store/rollout_backend.h"
#include "ota/package.h"
#include "ota/signing_key.h"

namespace tinyedge::rollout {
namespace {

// How often a gateway asks for the leader lease (a takeover waits at most this long once the
// leader's session is gone) and the leader checks it still holds it.
constexpr TimeMs kLeaseCheckMs = 250;

TimeMs wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string read_text(const std::string& path) {
  auto bytes = ota::read_file(path);
  return std::string(bytes.begin(), bytes.end());
}

class Observer final : public gateway::UplinkObserver {
 public:
  explicit Observer(RolloutService& service) : service_(service) {}
  void on_uplink(const gateway::UplinkContext& context, const tinyedge_v1_Uplink& uplink) override {
    switch (uplink.which_payload) {
      case tinyedge_v1_Uplink_hello_tag:
      case tinyedge_v1_Uplink_ota_status_tag:
      case tinyedge_v1_Uplink_chunk_request_tag:
      case tinyedge_v1_Uplink_telemetry_tag:
        service_.on_uplink(std::string(context.node_id), uplink);
        break;
      default:
        break;
    }
  }

 private:
  RolloutService& service_;
};

}  // namespace

RolloutRunner::RolloutRunner(boost::asio::io_context& io, gateway::Gateway& gateway, RolloutOptions options)
    : io_(io), gateway_(gateway), timer_(io), alive_(std::make_shared<std::atomic<bool>>(true)) {
  std::vector<ota::TrustedKey> keys;
  for (const auto& path : options.fleet_public_keys) keys.push_back(ota::public_key_from_pem(read_text(path)));
  std::optional<ota::SigningKey> grant_key;
  if (!options.grant_key.empty()) grant_key = ota::SigningKey::from_pem(read_text(options.grant_key));
  store_ = gateway::open_rollout_store(gateway.config().store);
  registry_ = std::make_unique<ModelRegistry>(*store_, std::move(keys));
  fleet_ = std::make_unique<GatewayFleet>(gateway, gateway.open_query());
  RolloutServiceConfig config;
  config.ota = options.ota;
  gateway::Logger& log = gateway.log();
  service_ = std::make_unique<RolloutService>(*store_, *registry_, *fleet_, config, wall_ms, std::move(grant_key),
                                              [&log](const std::string& line) { log.info("rollout", line); });
}

RolloutRunner::~RolloutRunner() { stop(); }

void RolloutRunner::start() {
  if (store_->mailbox()) {
    lease_ = gateway::open_leader_lease(gateway_.config().store);
    gateway_.log().info("rollout", "sharing the store with other gateways: rollouts run where the lease is");
  } else {
    service_->restore();
  }
  auto alive = alive_;
  service_->set_wake([this, alive] {
    if (*alive && !wake_pending_.exchange(true)) {
      boost::asio::post(io_, [this, alive] {
        if (!*alive) return;
        wake_pending_ = false;
        timer_.cancel();  // the handler runs at once and re-arms
      });
    }
  });
  gateway_.add_observer(std::make_shared<Observer>(*service_));
  arm(wall_ms());
}

void RolloutRunner::stop() {
  if (!alive_->exchange(false)) return;
  service_->set_wake({});
  timer_.cancel();
}

void RolloutRunner::arm(TimeMs at) {
  TimeMs delay = std::max<TimeMs>(0, at - wall_ms());
  timer_.expires_after(std::chrono::milliseconds(delay));
  auto alive = alive_;
  timer_.async_wait([this, alive](const boost::system::error_code&) {
    if (!*alive) return;
    TimeMs next = wall_ms();
    try {
      if (lease_) check_lease(next);
      next = service_->run_once();
    } catch (const std::exception& e) {
      gateway_.log().error("rollout", "step failed", {{"error", e.what()}});
      next = wall_ms() + 1000;
    }
    arm(next);
  });
}

void RolloutRunner::check_lease(TimeMs now) {
  if (now < next_lease_check_) return;
  next_lease_check_ = now + kLeaseCheckMs;
  const bool held = lease_->held();
  if (held == service_->leading()) return;
  service_->set_leading(held);  // throws if the store cannot be read: the next check tries again
  gateway_.log().info("rollout",
                      held ? "leader: this gateway runs the rollouts" : "follower: another gateway runs the rollouts");
}

}  // namespace tinyedge::rollout
