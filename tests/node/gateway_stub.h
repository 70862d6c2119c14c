// What a gateway does with node uplinks, reduced to what the fleet tests check: subscribe to
// every node's up and state topics, decode InferenceResults, remember each (node, boot, seq),
// and Ack every boot through its highest gap-free seq (a real gateway acks once durable).
// Reconnects and resubscribes by itself when the broker comes back.
#pragma once
#include <MQTTAsync.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

#include "protocol/codec.h"
#include "protocol/topics.h"

namespace tinyedge::testing {

class GatewayStub {
 public:
  using Key = std::pair<std::string, uint32_t>;  // node, boot

  explicit GatewayStub(const std::string& url) {
    MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
    if (MQTTAsync_createWithOptions(&client_, url.c_str(), "gateway-stub", MQTTCLIENT_PERSISTENCE_NONE, nullptr,
                                    &create) != MQTTASYNC_SUCCESS) {
      throw std::runtime_error("gateway stub: cannot create client for " + url);
    }
    MQTTAsync_setCallbacks(client_, this, &GatewayStub::on_lost, &GatewayStub::on_message, nullptr);
    MQTTAsync_setConnected(client_, this, &GatewayStub::on_connected);
    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
    opts.keepAliveInterval = 2;
    opts.cleansession = 1;
    opts.automaticReconnect = 1;
    opts.minRetryInterval = 1;
    opts.maxRetryInterval = 1;
    opts.context = this;
    opts.onSuccess = [](void* ctx, MQTTAsync_successData*) { static_cast<GatewayStub*>(ctx)->subscribe(); };
    if (MQTTAsync_connect(client_, &opts) != MQTTASYNC_SUCCESS) throw std::runtime_error("gateway stub: connect");
  }
  ~GatewayStub() {
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 500;
    MQTTAsync_disconnect(client_, &d);
    MQTTAsync_destroy(&client_);
  }

  bool subscribed() const { return subscribed_; }
  void set_acking(bool on) { acking_ = on; }

  std::map<Key, std::set<uint32_t>> results() const {
    std::lock_guard lock(mu_);
    return results_;
  }
  std::map<std::string, std::string> states() const {
    std::lock_guard lock(mu_);
    return states_;
  }
  size_t hellos() const {
    std::lock_guard lock(mu_);
    return hellos_;
  }
  size_t undecodable() const {
    std::lock_guard lock(mu_);
    return undecodable_;
  }
  size_t duplicates() const {
    std::lock_guard lock(mu_);
    return duplicates_;
  }

 private:
  void subscribe() {
    subscribed_ = false;
    char* topics[2] = {const_cast<char*>("tinyedge/v1/+/up"), const_cast<char*>("tinyedge/v1/+/state")};
    int qos[2] = {1, 1};
    MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
    r.context = this;
    r.onSuccess = [](void* ctx, MQTTAsync_successData*) { static_cast<GatewayStub*>(ctx)->subscribed_ = true; };
    MQTTAsync_subscribeMany(client_, 2, topics, qos, &r);
  }
  static void on_connected(void* ctx, char*) { static_cast<GatewayStub*>(ctx)->subscribe(); }
  static void on_lost(void* ctx, char*) { static_cast<GatewayStub*>(ctx)->subscribed_ = false; }

  static int on_message(void* ctx, char* topic, int topic_len, MQTTAsync_message* m) {
    auto* self = static_cast<GatewayStub*>(ctx);
    const std::string t = topic_len > 0 ? std::string(topic, static_cast<size_t>(topic_len)) : std::string(topic);
    self->handle(t, static_cast<const uint8_t*>(m->payload), static_cast<size_t>(m->payloadlen));
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
  }

  void handle(const std::string& topic, const uint8_t* data, size_t size) {
    const auto parts = protocol::parse_topic(topic);
    if (!parts) return;
    const std::string node(parts->node_id);
    if (parts->channel == protocol::Channel::kState) {
      std::lock_guard lock(mu_);
      states_[node] = std::string(reinterpret_cast<const char*>(data), size);
      return;
    }
    if (parts->channel != protocol::Channel::kUp) return;
    tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
    if (!protocol::decode_uplink({data, size}, up).ok || node != up.node_id) {
      std::lock_guard lock(mu_);
      ++undecodable_;
      return;
    }
    if (up.which_payload == tinyedge_v1_Uplink_hello_tag) {
      std::lock_guard lock(mu_);
      ++hellos_;
      return;
    }
    if (up.which_payload != tinyedge_v1_Uplink_results_tag) return;
    uint32_t through = 0;
    {
      std::lock_guard lock(mu_);
      auto& seqs = results_[{node, up.boot_id}];
      for (pb_size_t i = 0; i < up.payload.results.results_count; ++i) {
        if (!seqs.insert(up.seq + i).second) ++duplicates_;
      }
      // Highest seq with every seq below it present.
      uint32_t expect = 1;
      for (uint32_t s : seqs) {
        if (s != expect) break;
        through = s;
        ++expect;
      }
    }
    if (!acking_ || through == 0) return;
    tinyedge_v1_Downlink down = tinyedge_v1_Downlink_init_zero;
    down.which_payload = tinyedge_v1_Downlink_ack_tag;
    down.payload.ack.boot_id = up.boot_id;
    down.payload.ack.through_seq = through;
    uint8_t buf[64];
    const auto enc = protocol::encode_downlink(down, buf);
    char down_topic[protocol::kMaxTopicLength];
    protocol::format_topic(down_topic, node, protocol::Channel::kDown);
    MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
    MQTTAsync_send(client_, down_topic, static_cast<int>(enc.size), buf, 1, 0, &r);
  }

  MQTTAsync client_ = nullptr;
  std::atomic<bool> subscribed_{false};
  std::atomic<bool> acking_{true};
  mutable std::mutex mu_;
  std::map<Key, std::set<uint32_t>> results_;
  std::map<std::string, std::string> states_;
  size_t hellos_ = 0;
  size_t undecodable_ = 0;
  size_t duplicates_ = 0;
};

}  // namespace tinyedge::testing
