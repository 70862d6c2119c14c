// The gateway daemon, as a library object: everything runs on the caller's io_context (bearers,
// ingest, downlinks), except the store's writer thread and Paho's network threads, which only
// post onto it. main.cpp and the integration tests both drive this class.
#pragma once
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/bearer/bearer.h"
#include "gateway/bearer/link_auth.h"
#include "gateway/bearer/router.h"
#include "gateway/core/config.h"
#include "gateway/core/log.h"
#include "gateway/core/metrics.h"
#include "gateway/ingest/ingest.h"
#include "gateway/store/backend.h"

namespace tinyedge::gateway {

class Gateway {
 public:
  Gateway(boost::asio::io_context& io, GatewayConfig config, Logger& log);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Opens and migrates the store, starts the writer and every bearer (MQTT, serial, BLE).
  // Throws (ConfigError, std::runtime_error from the store) with a message naming the problem.
  void start();
  // Clean stop, on the io_context thread: stop intake, flush the store (its last Acks go out),
  // close links, disconnect from the broker. Then calls `done` (e.g. io.stop()).
  void shutdown(std::function<void()> done = {});

  // For the OTA server / rollout engine: see Hello, OtaStatus, ChunkRequest, Telemetry uplinks.
  void add_observer(std::shared_ptr<UplinkObserver> observer) { ingest_->add_observer(std::move(observer)); }
  // Over whichever bearer the node was last seen on (MQTT .../down QoS 1, its serial or BLE link).
  // In a shared subscription group, a node this gateway has not heard from yet is reached through
  // the broker (its uplinks may all have gone to the group's other gateways).
  bool send_downlink(const std::string& node_id, const tinyedge_v1_Downlink& downlink);

  // For the dashboard API: a read-only query connection of its own, and the live counters.
  std::unique_ptr<Query> open_query() const { return gateway::open_query(config_.store); }
  Metrics& metrics() { return metrics_; }
  const GatewayConfig& config() const { return config_; }
  Store& store() { return *store_; }
  Router& router() { return router_; }
  Logger& log() { return log_; }
  // What the bearers' listeners actually bound (port 0 resolved).
  std::vector<std::string> bearer_listening() const;
  std::vector<BearerStatus> bearer_status() const;

 private:
  boost::asio::io_context& io_;
  GatewayConfig config_;
  Logger& log_;
  Metrics metrics_;
  Router router_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Ingest> ingest_;
  // Links without a broker (serial, BLE) prove their node against these keys; one for all of them.
  std::unique_ptr<LinkAuthenticator> link_auth_;
  std::vector<std::shared_ptr<Bearer>> bearers_;
  std::shared_ptr<DownlinkSink> mqtt_;  // the MQTT bearer, when a shared subscription group is set
  bool stopped_ = false;
};

}  // namespace tinyedge::gateway
