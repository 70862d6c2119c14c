// The gateway side of OTA for a whole fleet: offers (with a signed rollback grant when rolling
// back) and Chunk answers to every node's ChunkRequests, paced by one token bucket for the gateway
// so a fleet-wide update cannot starve event ingest, and served round-robin across nodes so no
// node waits behind another's window. Plain C++ with the time passed in: the service pumps it
// from a timer and sends what it returns.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/rollout/rollout_types.h"
#include "ota/chunk_server.h"
#include "ota/package.h"
#include "tinyedge.pb.h"

namespace tinyedge::rollout {

struct OtaServerConfig {
  uint32_t chunk_size = ota::ChunkServer::kMaxChunkBytes;
  uint64_t bytes_per_second = 4u << 20;  // payload bytes, whole gateway
  uint64_t burst_bytes = 64u << 10;
  size_t max_queued_per_node = 32;       // a node's window; more outstanding requests are dropped
  // Chunks waiting in a bearer's outgoing queue (e.g. MQTT publishes the broker has not
  // acknowledged yet) above which the server stops sending and waits: a deep queue means the
  // bearer cannot keep up, and pushing more only gets chunks refused or delayed.
  size_t max_downlink_backlog = 256;
  TimeMs backoff_ms = 5;                 // how long to wait when the bearer is backed up
};

class OtaServer {
 public:
  explicit OtaServer(OtaServerConfig config = {});

  // Makes a package servable (idempotent per model id + version + delta id). A delta (`delta_id`
  // its registry id, 0 for the full package) installs the same version as the full package, so
  // chunk requests, which name only the version, are answered from the one assigned to the node.
  void add_package(const ota::Package& package, int64_t delta_id = 0);
  bool has_package(uint32_t model_id, uint32_t version, int64_t delta_id = 0) const;
  // The node's chunk requests for model_id v`version` are answered from delta `delta_id` (0: the
  // full package) from now on: set when the node is offered one or the other, and by a gateway
  // that did not make the offer (a follower, a restart) from the offer the rollout store holds.
  void assign(const std::string& node_id, uint32_t model_id, uint32_t version, int64_t delta_id);

  // The UpdateOffer for a served package; with `grant` it carries the signed rollback grant.
  // `chunk_bytes` (0: the configured chunk size; never above it) and `window` (0: the node's own)
  // fit the offer to the link the node is on: a BLE connection's MTU sets both. The node cuts its
  // download into blocks of at most chunk_bytes and keeps `window` requests outstanding.
  // Throws std::out_of_range if the package is not served.
  tinyedge_v1_Downlink offer(uint32_t model_id, uint32_t version,
                             const std::optional<ota::SignedRollbackGrant>& grant = std::nullopt,
                             uint32_t chunk_bytes = 0, uint32_t window = 0, int64_t delta_id = 0);

  enum class Request : uint8_t { kQueued, kUnknownPackage, kBadRange, kQueueFull, kDuplicate };
  Request on_chunk_request(const std::string& node_id, const tinyedge_v1_ChunkRequest& request);
  // Drops a node's queued requests (cancelled update, node gone).
  void forget(const std::string& node_id);

  struct Outgoing {
    std::string node_id;
    tinyedge_v1_Downlink downlink;
  };
  // Chunks the budget allows at `now`, fairly across nodes.
  std::vector<Outgoing> pump(TimeMs now);
  // Sends what the budget allows at `now` through `send`, fairly across nodes. kBackedUp (the
  // bearer's queue is deep): nothing is lost, the request stays at the head of its node's queue,
  // its bytes stay in the budget, and the server waits backoff_ms. kUndeliverable (no route to
  // the node now): the request is dropped and counted; the node asks again when it is back.
  enum class SendResult : uint8_t { kSent, kBackedUp, kUndeliverable };
  using Sender = std::function<SendResult(const std::string& node_id, const tinyedge_v1_Downlink& chunk)>;
  // Returns the number of chunks sent.
  size_t pump(TimeMs now, const Sender& send);
  // When pump() can next send something: now if it can, -1 when nothing is queued.
  TimeMs next_ready(TimeMs now) const;
  size_t queued() const { return queued_; }
  uint64_t payload_bytes_sent() const { return payload_bytes_sent_; }
  uint64_t backoffs() const { return backoffs_; }          // times a backed-up bearer made the server wait
  uint64_t undeliverable() const { return undeliverable_; }  // requests dropped for want of a route

 private:
  struct Key {
    uint32_t model_id, version;
    int64_t delta_id = 0;
    auto operator<=>(const Key&) const = default;
  };
  // The package a node's request for model_id v`version` is answered from.
  Key key_for(const std::string& node_id, uint32_t model_id, uint32_t version) const;
  void refill(TimeMs now);

  OtaServerConfig config_;
  std::map<Key, std::unique_ptr<ota::ChunkServer>> servers_;
  std::map<std::string, std::deque<tinyedge_v1_ChunkRequest>> queues_;
  std::map<std::string, Key> assigned_;  // per node: the package it was last offered
  std::string cursor_;  // round robin: the node served last
  size_t queued_ = 0;
  double tokens_;
  TimeMs refilled_at_ = -1;
  TimeMs backoff_until_ = -1;
  uint64_t payload_bytes_sent_ = 0;
  uint64_t backoffs_ = 0;
  uint64_t undeliverable_ = 0;
};

std::string_view to_string(OtaServer::Request result);

}  // namespace tinyedge::rollout
