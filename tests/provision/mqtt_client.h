// A synchronous MQTT 3.1.1 client (Paho C) for checking what a broker lets a login do.
#pragma once
#include <MQTTClient.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace tinyedge::testing {

struct Received {
  std::string topic, payload;
};

class MqttClient {
 public:
  MqttClient(const std::string& url, const std::string& client_id) {
    if (MQTTClient_create(&client_, url.c_str(), client_id.c_str(), MQTTCLIENT_PERSISTENCE_NONE, nullptr) !=
        MQTTCLIENT_SUCCESS) {
      throw std::runtime_error("cannot create MQTT client " + client_id);
    }
  }
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;
  ~MqttClient() {
    if (MQTTClient_isConnected(client_)) MQTTClient_disconnect(client_, 100);
    MQTTClient_destroy(&client_);
  }

  // 0 on success; otherwise Paho's code (5: not authorised, from the broker's CONNACK).
  int connect(const std::string& username, const std::string& password) {
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    opts.keepAliveInterval = 10;
    opts.cleansession = 1;
    opts.connectTimeout = 5;
    if (!username.empty()) opts.username = username.c_str();
    if (!password.empty()) opts.password = password.c_str();
    return MQTTClient_connect(client_, &opts);
  }
  bool connected() { return MQTTClient_isConnected(client_) != 0; }

  // QoS 1: returns once the broker has acknowledged (MQTT 3.1.1 acks a publish it drops by ACL).
  bool publish(const std::string& topic, const std::string& payload) {
    MQTTClient_deliveryToken token = 0;
    if (MQTTClient_publish(client_, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, 0, &token) !=
        MQTTCLIENT_SUCCESS) {
      return false;
    }
    return MQTTClient_waitForCompletion(client_, token, 5000) == MQTTCLIENT_SUCCESS;
  }
  // The granted QoS, or 0x80 when the broker refused the subscription.
  int subscribe(const std::string& filter) {
    const int rc = MQTTClient_subscribe(client_, filter.c_str(), 1);
    return rc == MQTTCLIENT_SUCCESS ? 1 : rc;
  }
  // The next message within `timeout`, if any.
  std::optional<Received> receive(std::chrono::milliseconds timeout) {
    char* topic = nullptr;
    int topic_len = 0;
    MQTTClient_message* message = nullptr;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      const int rc =
          MQTTClient_receive(client_, &topic, &topic_len, &message, static_cast<unsigned long>(left.count()));
      if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED) return std::nullopt;
      if (message == nullptr) continue;  // timed out inside receive
      Received r{topic_len > 0 ? std::string(topic, topic_len) : std::string(topic),
                 std::string(static_cast<const char*>(message->payload), message->payloadlen)};
      MQTTClient_freeMessage(&message);
      MQTTClient_free(topic);
      return r;
    }
    return std::nullopt;
  }

 private:
  MQTTClient client_ = nullptr;
};

}  // namespace tinyedge::testing
