#include "node_firmware/ports/host/mqtt_bearer.h"

#include <cstring>
#include <stdexcept>

#include "node_firmware/ports/host/sent_log.h"
#include "protocol/codec.h"
#include "protocol/topics.h"

namespace tinyedge::host {
namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr size_t kInboxLimit = 64;  // downlinks waiting for the main loop; more are dropped

std::string topic_for(const std::string& node, protocol::Channel channel) {
  char buf[protocol::kMaxTopicLength];
  const size_t n = protocol::format_topic(buf, node, channel);
  if (n == 0) throw std::runtime_error("invalid node id '" + node + "' (1..32 of [A-Za-z0-9_-])");
  return std::string(buf, n);
}

}  // namespace

MqttBearer::MqttBearer(MqttOptions options, SentLog* sent_log)
    : options_(std::move(options)),
      sent_log_(sent_log),
      up_topic_(topic_for(options_.node_id, protocol::Channel::kUp)),
      down_topic_(topic_for(options_.node_id, protocol::Channel::kDown)),
      state_topic_(topic_for(options_.node_id, protocol::Channel::kState)) {
  MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
  create.sendWhileDisconnected = 0;  // the ring buffer, not Paho, keeps results across outages
  const int rc = MQTTAsync_createWithOptions(&client_, options_.broker_url.c_str(), options_.node_id.c_str(),
                                             MQTTCLIENT_PERSISTENCE_NONE, nullptr, &create);
  if (rc != MQTTASYNC_SUCCESS) {
    throw std::runtime_error("cannot create MQTT client for broker '" + options_.broker_url +
                             "': " + MQTTAsync_strerror(rc));
  }
  MQTTAsync_setCallbacks(client_, this, &MqttBearer::on_connection_lost, &MqttBearer::on_message, nullptr);
  MQTTAsync_setConnected(client_, this, &MqttBearer::on_reconnected);
}

MqttBearer::~MqttBearer() {
  if (client_ != nullptr) MQTTAsync_destroy(&client_);
}

void MqttBearer::start_connect() {
  MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
  MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
  will.topicName = state_topic_.c_str();
  will.payload.data = protocol::kStateOffline.data();
  will.payload.len = static_cast<int>(protocol::kStateOffline.size());
  will.message = nullptr;
  will.retained = 1;
  will.qos = 1;
  opts.will = &will;
  opts.keepAliveInterval = options_.keepalive_s;
  opts.cleansession = 1;
  opts.automaticReconnect = 1;
  opts.minRetryInterval = 1;
  opts.maxRetryInterval = 2;
  opts.connectTimeout = 5;
  opts.onSuccess = &MqttBearer::on_connect_success;
  opts.onFailure = &MqttBearer::on_connect_failure;
  opts.context = this;
  if (!options_.username.empty()) opts.username = options_.username.c_str();
  if (!options_.password.empty()) opts.password = options_.password.c_str();
  connecting_ = true;
  if (MQTTAsync_connect(client_, &opts) != MQTTASYNC_SUCCESS) {
    connecting_ = false;
    retry_at_ms_ = steady_ms() + 1000;
  }
}

void MqttBearer::maintain() {
  // Only the first connection is ours to retry: after it, Paho's automatic reconnect runs.
  if (ever_connected_ || connecting_) return;
  if (steady_ms() < retry_at_ms_) return;
  start_connect();
}

void MqttBearer::stop() {
  if (connected_) {
    MQTTAsync_responseOptions ropts = MQTTAsync_responseOptions_initializer;
    MQTTAsync_send(client_, state_topic_.c_str(), static_cast<int>(protocol::kStateOffline.size()),
                   protocol::kStateOffline.data(), 1, 1, &ropts);
  }
  MQTTAsync_disconnectOptions dopts = MQTTAsync_disconnectOptions_initializer;
  dopts.timeout = 1000;
  MQTTAsync_disconnect(client_, &dopts);
  connected_ = false;
}

void MqttBearer::on_connect_success(void* context, MQTTAsync_successData*) {
  static_cast<MqttBearer*>(context)->link_up();
}

void MqttBearer::on_reconnected(void* context, char*) { static_cast<MqttBearer*>(context)->link_up(); }

void MqttBearer::on_connect_failure(void* context, MQTTAsync_failureData*) {
  auto* self = static_cast<MqttBearer*>(context);
  self->retry_at_ms_ = steady_ms() + 1000;
  self->connecting_ = false;
}

void MqttBearer::on_connection_lost(void* context, char*) {
  auto* self = static_cast<MqttBearer*>(context);
  self->connected_ = false;
  self->link_setup_ = false;
}

void MqttBearer::link_up() {
  ever_connected_ = true;
  connecting_ = false;
  // Paho reports the first connection twice (onSuccess and the connected callback).
  if (link_setup_.exchange(true)) return;
  // The session is clean: subscribe again on every connection, and only report the link up
  // once the downlink topic is live, so Acks for what we send cannot miss us.
  MQTTAsync_responseOptions ropts = MQTTAsync_responseOptions_initializer;
  ropts.onSuccess = &MqttBearer::on_subscribed;
  ropts.onFailure = &MqttBearer::on_subscribe_failed;
  ropts.context = this;
  MQTTAsync_subscribe(client_, down_topic_.c_str(), 1, &ropts);
}

void MqttBearer::on_subscribed(void* context, MQTTAsync_successData*) {
  auto* self = static_cast<MqttBearer*>(context);
  MQTTAsync_responseOptions ropts = MQTTAsync_responseOptions_initializer;
  MQTTAsync_send(self->client_, self->state_topic_.c_str(), static_cast<int>(protocol::kStateOnline.size()),
                 protocol::kStateOnline.data(), 1, 1, &ropts);
  ++self->connects_;
  self->connected_ = true;
}

void MqttBearer::on_subscribe_failed(void* context, MQTTAsync_failureData*) {
  // The link is unusable without its downlink: drop it, Paho's reconnect starts over.
  auto* self = static_cast<MqttBearer*>(context);
  self->connected_ = false;
  self->link_setup_ = false;
  MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
  MQTTAsync_disconnect(self->client_, &d);
}

int MqttBearer::on_message(void* context, char* topic, int, MQTTAsync_message* message) {
  auto* self = static_cast<MqttBearer*>(context);
  {
    std::lock_guard lock(self->inbox_mu_);
    if (self->inbox_.size() < kInboxLimit && message->payloadlen > 0) {
      const auto* p = static_cast<const uint8_t*>(message->payload);
      self->inbox_.emplace_back(p, p + message->payloadlen);
    }
  }
  MQTTAsync_freeMessage(&message);
  MQTTAsync_free(topic);
  return 1;
}

bool MqttBearer::send(std::span<const uint8_t> uplink) {
  if (!connected_) return false;
  MQTTAsync_message msg = MQTTAsync_message_initializer;
  msg.payload = const_cast<uint8_t*>(uplink.data());  // Paho copies it; the API is not const-correct
  msg.payloadlen = static_cast<int>(uplink.size());
  msg.qos = 1;
  msg.retained = 0;
  MQTTAsync_responseOptions ropts = MQTTAsync_responseOptions_initializer;
  if (MQTTAsync_sendMessage(client_, up_topic_.c_str(), &msg, &ropts) != MQTTASYNC_SUCCESS) return false;
  if (sent_log_ != nullptr) {
    tinyedge_v1_Uplink decoded = tinyedge_v1_Uplink_init_zero;
    if (protocol::decode_uplink(uplink, decoded).ok && decoded.which_payload == tinyedge_v1_Uplink_results_tag &&
        decoded.payload.results.results_count > 0) {
      sent_log_->sent(options_.node_id, decoded.boot_id, decoded.seq,
                      decoded.seq + decoded.payload.results.results_count - 1);
    }
  }
  return true;
}

size_t MqttBearer::receive(std::span<uint8_t> out) {
  std::lock_guard lock(inbox_mu_);
  while (!inbox_.empty()) {
    std::vector<uint8_t> msg = std::move(inbox_.front());
    inbox_.pop_front();
    if (msg.size() > out.size()) continue;  // larger than any Downlink: not ours to parse
    std::memcpy(out.data(), msg.data(), msg.size());
    return msg.size();
  }
  return 0;
}

}  // namespace tinyedge::host
