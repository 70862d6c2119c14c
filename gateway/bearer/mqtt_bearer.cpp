#include "gateway/bearer/mqtt_bearer.h"

#include <boost/asio/post.hpp>

#include "protocol/topics.h"

namespace tinyedge::gateway {

namespace asio = boost::asio;

namespace {

constexpr int kMaxBufferedDownlinks = 20000;  // ~10 MB of chunks at most

// Adapts a lambda to Paho's action listener for connect results.
class Listener : public mqtt::iaction_listener {
 public:
  explicit Listener(std::function<void(bool, const std::string&)> done) : done_(std::move(done)) {}
  void on_success(const mqtt::token&) override { done_(true, {}); }
  void on_failure(const mqtt::token& token) override {
    done_(false, "reason code " + std::to_string(token.get_return_code()));
  }

 private:
  std::function<void(bool, const std::string&)> done_;
};

std::string filter(const MqttConfig& config, protocol::Channel channel) {
  char topic[protocol::kMaxTopicLength];
  const size_t n = protocol::format_wildcard_topic(topic, channel);
  std::string result(topic, n);
  if (!config.shared_group.empty()) result = "$share/" + config.shared_group + "/" + result;
  return result;
}

}  // namespace

MqttBearer::MqttBearer(asio::io_context& io, MqttConfig config, Ingest& ingest, Metrics& metrics, Logger& log)
    : io_(io), config_(std::move(config)), ingest_(ingest), metrics_(metrics), log_(log), retry_(io) {}

MqttBearer::~MqttBearer() {
  stopping_ = true;
  if (client_) {
    try {
      client_->disable_callbacks();  // no posts into a bearer that is going away
    } catch (const mqtt::exception&) {
      // Paho refuses while a connect is pending; the weak_ptr guards in the callbacks suffice.
    }
  }
}

void MqttBearer::start() {
  const bool v5 = !config_.shared_group.empty();
  mqtt::create_options create(v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
  // Paho refuses a publish ("No more messages can be buffered") once this many wait in its
  // command queue; its default of 100 is reached within milliseconds when OTA chunks go out at
  // several MB/s next to the acks. Bulk senders also back off on backlog() long before this.
  create.set_max_buffered_messages(kMaxBufferedDownlinks);
  client_ = std::make_unique<mqtt::async_client>(config_.url, config_.client_id, create,
                                                 static_cast<mqtt::iclient_persistence*>(nullptr));
  if (v5) {
    options_.set_mqtt_version(MQTTVERSION_5);
    options_.set_clean_start(false);
    options_.set_properties({{mqtt::property::SESSION_EXPIRY_INTERVAL, config_.session_expiry_s}});
  } else {
    options_.set_mqtt_version(MQTTVERSION_3_1_1);
    options_.set_clean_session(false);  // the broker keeps our subscriptions and queues QoS 1 for us
  }
  options_.set_keep_alive_interval(config_.keepalive_s);
  options_.set_automatic_reconnect(1, 30);
  if (!config_.username.empty()) options_.set_user_name(config_.username);
  if (!config_.password.empty()) options_.set_password(config_.password);
  if (config_.url.rfind("ssl://", 0) == 0 || config_.url.rfind("wss://", 0) == 0 ||
      config_.url.rfind("mqtts://", 0) == 0) {
    mqtt::ssl_options ssl;
    if (!config_.ca_file.empty()) ssl.set_trust_store(config_.ca_file);
    if (!config_.cert_file.empty()) ssl.set_key_store(config_.cert_file);
    if (!config_.key_file.empty()) ssl.set_private_key(config_.key_file);
    ssl.set_enable_server_cert_auth(config_.tls_verify);
    ssl.set_verify(config_.tls_verify);
    options_.set_ssl(ssl);
  }
  auto weak = weak_from_this();
  client_->set_message_callback([weak, this](mqtt::const_message_ptr message) {
    if (auto self = weak.lock()) {
      asio::post(io_, [self, message] { self->on_message(message); });
    }
  });
  client_->set_connected_handler([weak, this](const std::string&) {
    if (auto self = weak.lock()) {
      asio::post(io_, [self] {
        self->metrics_.mqtt_connected.set(1);
        self->log_.info("mqtt", "connected", {{"url", self->config_.url}, {"client_id", self->config_.client_id}});
        self->subscribe();
      });
    }
  });
  client_->set_connection_lost_handler([weak, this](const std::string& cause) {
    if (auto self = weak.lock()) {
      asio::post(io_, [self, cause] {
        self->metrics_.mqtt_connected.set(0);
        self->log_.warn("mqtt", "connection lost; reconnecting", {{"cause", cause}});
      });
    }
  });
  connect();
}

void MqttBearer::connect() {
  if (stopping_) return;
  auto weak = weak_from_this();
  auto listener = std::make_shared<Listener>([weak, this](bool ok, const std::string& why) {
    if (ok) return;  // the connected handler takes it from here
    if (auto self = weak.lock()) {
      asio::post(io_, [self, why] {
        self->log_.warn("mqtt", "connect failed; retrying in 1 s", {{"url", self->config_.url}, {"error", why}});
        self->retry_.expires_after(std::chrono::seconds(1));
        self->retry_.async_wait([self](const boost::system::error_code& ec) {
          if (!ec) self->connect();
        });
      });
    }
  });
  try {
    // Paho keeps a raw pointer to the listener until the token completes: the token holds it.
    connect_listener_ = listener;
    client_->connect(options_, nullptr, *listener);
  } catch (const mqtt::exception& error) {
    log_.error("mqtt", "connect refused", {{"url", config_.url}, {"error", error.what()}});
    retry_.expires_after(std::chrono::seconds(1));
    retry_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->connect();
    });
  }
}

void MqttBearer::subscribe() {
  if (stopping_) return;
  const std::string up = filter(config_, protocol::Channel::kUp);
  const std::string state = filter(config_, protocol::Channel::kState);
  try {
    client_->subscribe(up, 1);
    client_->subscribe(state, 1);
    log_.info("mqtt", "subscribed", {{"up", up}, {"state", state}});
  } catch (const mqtt::exception& error) {
    log_.error("mqtt", "subscribe failed", {{"error", error.what()}});
  }
}

void MqttBearer::on_message(const mqtt::const_message_ptr& message) {
  if (!intake_) return;
  const std::string& topic = message->get_topic();
  const auto parts = protocol::parse_topic(topic);
  if (!parts || (parts->channel != protocol::Channel::kUp && parts->channel != protocol::Channel::kState)) {
    metrics_.bad_topics.add();
    ingest_.reject(name_, "unexpected topic", topic);
    return;
  }
  const auto& payload = message->get_payload_ref();
  if (parts->channel == protocol::Channel::kState) {
    ingest_.on_state(parts->node_id, std::string_view(payload.data(), payload.size()));
    return;
  }
  ingest_.on_uplink({reinterpret_cast<const uint8_t*>(payload.data()), payload.size()}, parts->node_id,
                    shared_from_this());
}

bool MqttBearer::send(const std::string& node_id, std::span<const uint8_t> payload) {
  if (!client_ || !client_->is_connected()) return false;
  char topic[protocol::kMaxTopicLength];
  const size_t n = protocol::format_topic(topic, node_id, protocol::Channel::kDown);
  if (n == 0) return false;
  try {
    publishes_.in_flight.fetch_add(1, std::memory_order_relaxed);
    client_->publish(std::string(topic, n), payload.data(), payload.size(), 1, false, nullptr, publishes_);
    return true;
  } catch (const mqtt::exception& error) {
    publishes_.in_flight.fetch_sub(1, std::memory_order_relaxed);
    log_.warn("mqtt", "downlink publish failed", {{"node", node_id}, {"error", error.what()}});
    return false;
  }
}

size_t MqttBearer::backlog() const {
  const int64_t n = publishes_.in_flight.load(std::memory_order_relaxed);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

void MqttBearer::disconnect(int timeout_ms) {
  stopping_ = true;
  retry_.cancel();
  if (!client_) return;
  try {
    if (client_->is_connected()) client_->disconnect(timeout_ms)->wait_for(std::chrono::milliseconds(timeout_ms + 500));
  } catch (const mqtt::exception& error) {
    log_.warn("mqtt", "disconnect failed", {{"error", error.what()}});
  }
  metrics_.mqtt_connected.set(0);
  log_.info("mqtt", "disconnected");
}

}  // namespace tinyedge::gateway
