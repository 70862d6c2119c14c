// Bearer over MQTT (Paho MQTT C, asynchronous API: one background thread pair serves every
// client of the process, so hundreds of virtual nodes cost no threads each).
//
// Topics: tinyedge/v1/<node>/up (QoS 1), .../down (subscribed, QoS 1), .../state ("online"
// retained on connect, "offline" retained as the last will and on a clean stop).
#pragma once
#include <MQTTAsync.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "node_firmware/app/bearer.h"

namespace tinyedge::host {

class SentLog;

struct MqttOptions {
  std::string broker_url;  // tcp://127.0.0.1:1883
  std::string node_id;
  std::string username;    // empty: none
  std::string password;
  int keepalive_s = 10;
};

class MqttBearer final : public app::Bearer {
 public:
  // Throws std::runtime_error if the client cannot be created (bad URL, bad node id).
  MqttBearer(MqttOptions options, SentLog* sent_log);
  ~MqttBearer();
  MqttBearer(const MqttBearer&) = delete;
  MqttBearer& operator=(const MqttBearer&) = delete;

  // Starts the first connection and retries it until it succeeds (Paho reconnects by itself
  // after that). Call from the main loop.
  void maintain();
  // Publishes "offline" and disconnects cleanly (the broker then sends no last will).
  void stop();

  bool connected() override { return connected_.load(); }
  bool send(std::span<const uint8_t> uplink) override;
  size_t receive(std::span<uint8_t> out) override;

  uint32_t connects() const { return connects_.load(); }

 private:
  static void on_connect_success(void* context, MQTTAsync_successData* response);
  static void on_connect_failure(void* context, MQTTAsync_failureData* response);
  static void on_reconnected(void* context, char* cause);
  static void on_connection_lost(void* context, char* cause);
  static void on_subscribed(void* context, MQTTAsync_successData* response);
  static void on_subscribe_failed(void* context, MQTTAsync_failureData* response);
  static int on_message(void* context, char* topic, int topic_len, MQTTAsync_message* message);
  void link_up();
  void start_connect();

  MqttOptions options_;
  SentLog* sent_log_;
  std::string up_topic_, down_topic_, state_topic_;
  MQTTAsync client_ = nullptr;
  std::atomic<bool> connected_{false};
  std::atomic<bool> connecting_{false};
  std::atomic<bool> ever_connected_{false};
  std::atomic<bool> link_setup_{false};  // this connection's subscribe is under way or done
  std::atomic<uint32_t> connects_{0};
  std::atomic<int64_t> retry_at_ms_{0};  // steady clock; written by Paho's thread
  std::mutex inbox_mu_;
  std::deque<std::vector<uint8_t>> inbox_;
};

}  // namespace tinyedge::host
