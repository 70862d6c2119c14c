// MQTT bearer: one Paho async client with a persistent session (fixed client id, no clean
// session), QoS 1 subscriptions to tinyedge/v1/+/up and +/state (optionally through an MQTT 5
// shared subscription), and QoS 1 downlinks to tinyedge/v1/<node>/down. Paho's callbacks only
// post onto the io_context; all handling happens there.
#pragma once
#include <mqtt/async_client.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "gateway/bearer/bearer.h"
#include "gateway/core/config.h"
#include "gateway/core/downlink_sink.h"
#include "gateway/ingest/ingest.h"

namespace tinyedge::gateway {

class MqttBearer : public Bearer, public DownlinkSink, public std::enable_shared_from_this<MqttBearer> {
 public:
  MqttBearer(boost::asio::io_context& io, MqttConfig config, Ingest& ingest, Metrics& metrics, Logger& log);
  ~MqttBearer() override;

  // Bearer.
  const std::string& name() const override { return name_; }
  void start() override;
  // Ignores anything that arrives from now on (it is not acked, so nodes resend it).
  void stop_intake() override { intake_ = false; }
  void close() override { disconnect(); }
  BearerStatus status() const override { return {name_, connected() ? 1u : 0u, 0, {}}; }

  // Waits up to `timeout_ms` for queued downlinks, then disconnects.
  void disconnect(int timeout_ms = 2000);

  bool send(const std::string& node_id, std::span<const uint8_t> payload) override;
  const std::string& bearer_name() const override { return name_; }
  bool connected() const { return client_ && client_->is_connected(); }
  // QoS 1 downlinks published and not yet acknowledged by the broker (Paho's outgoing queue).
  size_t backlog() const override;

 private:
  void connect();
  void subscribe();
  void on_message(const mqtt::const_message_ptr& message);

  boost::asio::io_context& io_;
  MqttConfig config_;
  Ingest& ingest_;
  Metrics& metrics_;
  Logger& log_;
  std::string name_ = "mqtt";
  // Counts publishes down as Paho completes them; declared before client_ so it outlives it.
  class PublishListener : public mqtt::iaction_listener {
   public:
    void on_success(const mqtt::token&) override { in_flight.fetch_sub(1, std::memory_order_relaxed); }
    void on_failure(const mqtt::token&) override { in_flight.fetch_sub(1, std::memory_order_relaxed); }
    std::atomic<int64_t> in_flight{0};
  };
  PublishListener publishes_;
  std::unique_ptr<mqtt::async_client> client_;
  mqtt::connect_options options_;
  boost::asio::steady_timer retry_;
  std::shared_ptr<mqtt::iaction_listener> connect_listener_;  // Paho holds a reference until the token completes
  std::atomic<bool> intake_{true};
  std::atomic<bool> stopping_{false};
};

}  // namespace tinyedge::gateway
