#include "tests/gateway/support/sim_node.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "protocol/topics.h"

namespace tinyedge::test {

std::vector<uint8_t> results_uplink(const std::string& node_id, uint32_t boot_id, uint32_t first_seq, uint32_t count,
                                    uint32_t model_version) {
  static thread_local tinyedge_v1_Uplink uplink;
  uplink = tinyedge_v1_Uplink_init_zero;
  uplink.seq = first_seq;
  uplink.boot_id = boot_id;
  std::strncpy(uplink.node_id, node_id.c_str(), sizeof uplink.node_id - 1);
  uplink.which_payload = tinyedge_v1_Uplink_results_tag;
  auto& r = uplink.payload.results;
  r.model_id = 7;
  r.model_version = model_version;
  r.results_count = static_cast<pb_size_t>(std::min<uint32_t>(count, 16));
  for (pb_size_t i = 0; i < r.results_count; ++i) {
    const uint32_t seq = first_seq + i;
    auto& res = r.results[i];
    res.label = label_for(seq);
    res.score = score_for(seq);
    res.latency_us = latency_for(seq);
    res.age_ms = 0;
    res.sample_id = seq;
    res.runners_up_count = 1;
    res.runners_up[0].label = (label_for(seq) + 1) % 10;
    res.runners_up[0].score = score_for(seq) / 2;
  }
  std::vector<uint8_t> out(protocol::kMaxUplinkBytes);
  const auto encoded = protocol::encode_uplink(uplink, out);
  if (!encoded.ok) throw std::runtime_error("encode_uplink failed");
  out.resize(encoded.size);
  return out;
}

SimNode::SimNode(std::string url, std::string node_id, uint32_t boot_id, uint32_t batch)
    : node_id_(std::move(node_id)), boot_id_(boot_id), batch_(std::clamp<uint32_t>(batch, 1, 16)) {
  client_ = std::make_unique<mqtt::async_client>(url, node_id_, static_cast<mqtt::iclient_persistence*>(nullptr));
  options_.set_clean_session(true);
  options_.set_keep_alive_interval(30);
  options_.set_automatic_reconnect(1, 2);
  options_.set_max_inflight(65535);
  char state[protocol::kMaxTopicLength];
  const size_t n = protocol::format_topic(state, node_id_, protocol::Channel::kState);
  options_.set_will(mqtt::will_options(std::string(state, n), std::string(protocol::kStateOffline), 1, true));
  client_->set_message_callback([this](mqtt::const_message_ptr message) {
    tinyedge_v1_Downlink downlink = tinyedge_v1_Downlink_init_zero;
    const auto& p = message->get_payload_ref();
    if (!protocol::decode_downlink({reinterpret_cast<const uint8_t*>(p.data()), p.size()}, downlink).ok) return;
    if (downlink.which_payload != tinyedge_v1_Downlink_ack_tag && on_downlink_) on_downlink_(downlink);
    if (downlink.which_payload != tinyedge_v1_Downlink_ack_tag || downlink.payload.ack.boot_id != boot_id_) return;
    acks_.fetch_add(1);
    uint32_t seen = acked_.load();
    const uint32_t through = downlink.payload.ack.through_seq;
    while (through > seen && !acked_.compare_exchange_weak(seen, through)) {
    }
  });
  client_->set_connected_handler([this](const std::string&) {
    char down[protocol::kMaxTopicLength];
    const size_t n = protocol::format_topic(down, node_id_, protocol::Channel::kDown);
    client_->subscribe(std::string(down, n), 1);
  });
}

SimNode::~SimNode() {
  try {
    client_->disable_callbacks();
    if (client_->is_connected()) client_->disconnect(500)->wait_for(std::chrono::seconds(2));
  } catch (...) {
  }
}

void SimNode::connect() {
  start_connect();
  finish_connect();
}

void SimNode::start_connect() { connecting_ = client_->connect(options_); }

void SimNode::finish_connect() {
  connecting_->wait_for(std::chrono::seconds(20));
  if (!client_->is_connected()) throw std::runtime_error("sim node " + node_id_ + " could not connect");
  char down[protocol::kMaxTopicLength];
  const size_t n = protocol::format_topic(down, node_id_, protocol::Channel::kDown);
  client_->subscribe(std::string(down, n), 1)->wait_for(std::chrono::seconds(10));
  char state[protocol::kMaxTopicLength];
  const size_t m = protocol::format_topic(state, node_id_, protocol::Channel::kState);
  client_->publish(std::string(state, m), protocol::kStateOnline.data(), protocol::kStateOnline.size(), 1, true);
}

void SimNode::publish_range(uint32_t first, uint32_t count) {
  char up[protocol::kMaxTopicLength];
  const size_t n = protocol::format_topic(up, node_id_, protocol::Channel::kUp);
  const std::string topic(up, n);
  for (uint32_t seq = first; seq < first + count; seq += batch_) {
    const uint32_t k = std::min(batch_, first + count - seq);
    const auto payload = results_uplink(node_id_, boot_id_, seq, k);
    // Paho refuses publishes while its send queue is full or the link is down: wait and retry,
    // like a node whose ring buffer holds the result anyway.
    for (int attempt = 0;; ++attempt) {
      try {
        client_->publish(topic, payload.data(), payload.size(), 1, false);
        break;
      } catch (const mqtt::exception&) {
        if (attempt > 2000) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  }
}

void SimNode::produce(uint32_t n) {
  std::lock_guard lock(publish_mutex_);
  const uint32_t first = next_seq_;
  next_seq_ += n;
  publish_range(first, n);
}

size_t SimNode::resend_unacked() {
  std::lock_guard lock(publish_mutex_);
  const uint32_t from = acked_.load() + 1;
  if (from >= next_seq_) return 0;
  publish_range(from, next_seq_ - from);
  return next_seq_ - from;
}

void SimNode::publish_raw(const std::string& topic, const std::vector<uint8_t>& payload) {
  client_->publish(topic, payload.data(), payload.size(), 1, false)->wait_for(std::chrono::seconds(5));
}

}  // namespace tinyedge::test
