// Load generator for the benchmark: a minimal MQTT 3.1.1 QoS 1 publisher on a plain socket that
// pipelines PUBLISH packets with a window of unacknowledged ones. Paho's async client tops out
// around a few thousand publishes/s here, which would measure the generator, not the gateway.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <mutex>
#include <thread>

namespace tinyedge::test {

class RawPublisher {
 public:
  // Publishes results Uplinks for `node_id` (seqs 1, 1+batch, ...) to tinyedge/v1/<node>/up.
  // With `ack_window` > 0 it also subscribes to its down topic and, like a node's ring buffer,
  // keeps at most that many results unacknowledged by the gateway.
  RawPublisher(uint16_t port, std::string node_id, uint32_t batch, uint32_t window = 512, uint32_t ack_window = 0);
  ~RawPublisher();
  void start();
  void stop();
  uint64_t results_published() const { return published_.load(); }  // PUBACKed by the broker

 private:
  void write_loop();
  void read_loop();

  uint16_t port_;
  std::string node_id_;
  uint32_t batch_;
  uint32_t window_;
  uint32_t ack_window_;
  std::atomic<uint32_t> next_seq_{1};
  std::atomic<uint32_t> acked_{0};
  std::mutex send_mutex_;
  int fd_ = -1;
  std::atomic<bool> running_{false};
  std::atomic<uint32_t> inflight_{0};
  std::atomic<uint64_t> published_{0};
  std::thread writer_, reader_;
};

}  // namespace tinyedge::test
