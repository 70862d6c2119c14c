#include "gateway/daemon.h"

#include <boost/asio/post.hpp>
#include <filesystem>

#include "gateway/bearer/bearers.h"
#include "gateway/bearer/mqtt_bearer.h"

namespace tinyedge::gateway {

namespace asio = boost::asio;

Gateway::Gateway(asio::io_context& io, GatewayConfig config, Logger& log)
    : io_(io), config_(std::move(config)), log_(log), router_(metrics_, log_) {
  config_.store.path = config_.db_path();
}

Gateway::~Gateway() {
  for (auto& bearer : bearers_) bearer->stop_intake();
  if (store_) store_->stop();
}

void Gateway::start() {
  // Validate every endpoint before touching anything.
  check_bearer_list(config_.bearers);
  // Links without a broker prove their node with its link key: no keys, no serial bearer.
  if (!config_.bearers.empty()) {
    if (config_.link_keys.empty()) {
      throw ConfigError(
          "bearers: serial/BLE-bridge links must prove which node they are; set \"link_keys\" to a "
          "directory of <node-id>.key files (tinyedge keys link --node ID --out DIR)");
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(config_.link_keys, ec)) {
      throw ConfigError("link_keys: " + config_.link_keys + " is not a directory");
    }
  }
  store_ = open_store(config_.store, metrics_, log_);
  ingest_ = std::make_unique<Ingest>(*store_, router_, metrics_, log_);
  // Acks leave only after the commit that made them true; sending happens on the io thread.
  store_->start([this](std::vector<AckNotice> notices) {
    asio::post(io_, [this, notices = std::move(notices)] {
      for (const auto& n : notices) router_.send_ack(n.node_id, n.boot_id, n.through_seq);
    });
  });
  for (const auto& [node, groups] : config_.node_groups) store_->submit(GroupsItem{node, groups});
  link_auth_ = std::make_unique<LinkAuthenticator>(config_.link_keys, metrics_, log_);
  bearers_ = make_link_bearers(config_.bearers, {io_, *ingest_, *link_auth_, metrics_, log_});
  if (config_.mqtt.enabled) {
    auto mqtt = std::make_shared<MqttBearer>(io_, config_.mqtt, *ingest_, metrics_, log_);
    if (!config_.mqtt.shared_group.empty()) mqtt_ = mqtt;
    bearers_.push_back(std::move(mqtt));
  }
  for (auto& bearer : bearers_) bearer->start();
  log_.info("gateway", "started",
            {{"db", describe_store(config_.store)},
             {"mqtt", config_.mqtt.enabled ? config_.mqtt.url : "off"},
             {"bearers", config_.bearers.size()}});
}

void Gateway::shutdown(std::function<void()> done) {
  if (stopped_) {
    if (done) done();
    return;
  }
  stopped_ = true;
  log_.info("gateway", "stopping: intake off, flushing store");
  for (auto& bearer : bearers_) bearer->stop_intake();
  // Blocks this thread until the writer has committed everything queued; its Acks are posted
  // onto the io_context and therefore run before the disconnect below.
  if (store_) store_->stop();
  asio::post(io_, [this, done = std::move(done)] {
    for (auto& bearer : bearers_) bearer->close();
    log_.info("gateway", "stopped",
              {{"events_stored", metrics_.events_stored.get()}, {"duplicates", metrics_.duplicates.get()}});
    if (done) done();
  });
}

bool Gateway::send_downlink(const std::string& node_id, const tinyedge_v1_Downlink& downlink) {
  if (mqtt_ && router_.bearer_of(node_id).empty()) router_.seen(node_id, mqtt_);
  return router_.send_downlink(node_id, downlink);
}

std::vector<std::string> Gateway::bearer_listening() const {
  std::vector<std::string> all;
  for (const auto& bearer : bearers_) {
    auto status = bearer->status();
    all.insert(all.end(), status.listening.begin(), status.listening.end());
  }
  return all;
}

std::vector<BearerStatus> Gateway::bearer_status() const {
  std::vector<BearerStatus> all;
  for (const auto& bearer : bearers_) all.push_back(bearer->status());
  return all;
}

}  // namespace tinyedge::gateway
