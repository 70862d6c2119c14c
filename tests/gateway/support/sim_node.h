// A test node that speaks the protocol like node_firmware does: numbered results per boot,
// batched into Uplinks, published QoS 1 to tinyedge/v1/<node>/up, kept until an Ack covers them
// and resent after reconnect or when no Ack came in time.
#pragma once
#include <mqtt/async_client.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "protocol/codec.h"

namespace tinyedge::test {

// Deterministic content so the test can check every stored field.
inline uint32_t label_for(uint32_t seq) { return seq % 10; }
inline uint32_t score_for(uint32_t seq) { return (seq * 7) % 256; }
inline uint32_t latency_for(uint32_t seq) { return 1000 + seq % 500; }

// Encodes an Uplink with `count` results starting at `first_seq`.
std::vector<uint8_t> results_uplink(const std::string& node_id, uint32_t boot_id, uint32_t first_seq, uint32_t count,
                                    uint32_t model_version = 1);

class SimNode {
 public:
  SimNode(std::string url, std::string node_id, uint32_t boot_id, uint32_t batch);
  ~SimNode();

  void connect();
  // Starts connecting; finish_connect() waits. Lets a test connect many nodes in parallel.
  void start_connect();
  void finish_connect();
  // Creates `n` new results and publishes them in Uplinks of `batch`.
  void produce(uint32_t n);
  // Republishes everything not yet acked (what a node does after reconnect / ack timeout).
  size_t resend_unacked();
  // Called (on Paho's thread) with every downlink that is not an Ack: a test acts as the node's
  // command handler. Set before connect().
  void on_downlink(std::function<void(const tinyedge_v1_Downlink&)> handler) { on_downlink_ = std::move(handler); }
  // Publishes an arbitrary payload on a topic (for bad-input tests).
  void publish_raw(const std::string& topic, const std::vector<uint8_t>& payload);

  uint32_t produced() const { return next_seq_ - 1; }
  uint32_t acked_through() const { return acked_.load(); }
  bool all_acked() const { return acked_.load() == produced(); }
  uint64_t acks_received() const { return acks_.load(); }
  const std::string& node_id() const { return node_id_; }

 private:
  void publish_range(uint32_t first, uint32_t count);

  std::string node_id_;
  uint32_t boot_id_;
  uint32_t batch_;
  uint32_t next_seq_ = 1;
  std::atomic<uint32_t> acked_{0};
  std::atomic<uint64_t> acks_{0};
  std::unique_ptr<mqtt::async_client> client_;
  mqtt::connect_options options_;
  std::mutex publish_mutex_;
  mqtt::token_ptr connecting_;
  std::function<void(const tinyedge_v1_Downlink&)> on_downlink_;
};

}  // namespace tinyedge::test
