// From validated bytes to store items and observers. Runs on the io_context thread; every bearer
// calls on_uplink() with the node it believes sent the bytes. Bad input is counted, logged once
// (with a per-kind rate limit so a flood cannot drown the log), and dropped.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/downlink_sink.h"
#include "gateway/core/log.h"
#include "gateway/core/metrics.h"
#include "gateway/ingest/uplink_validator.h"
#include "gateway/store/store.h"

namespace tinyedge::gateway {

struct UplinkContext {
  std::string_view node_id;
  std::string_view bearer;
  int64_t received_ms;
  UplinkKind kind;
};

// Registration point for components that act on uplinks (the OTA server, the rollout engine):
// they see every valid Hello, OtaStatus, ChunkRequest and Telemetry on the io_context thread,
// after the store has been handed its copy. Results go only to the store.
class UplinkObserver {
 public:
  virtual ~UplinkObserver() = default;
  virtual void on_uplink(const UplinkContext& context, const tinyedge_v1_Uplink& uplink) = 0;
};

// What ingest tells the rest of the gateway about each uplink it accepted: the daemon wires this
// to the router, so a node's downlinks go back the way its last valid uplink came. Ingest knows
// nothing of bearers or routing beyond this.
class AcceptedUplinks {
 public:
  virtual ~AcceptedUplinks() = default;
  virtual void accepted(const std::string& node_id, const std::shared_ptr<DownlinkSink>& via) = 0;
};

class Ingest {
 public:
  Ingest(Store& store, AcceptedUplinks& accepted, Metrics& metrics, Logger& log)
      : store_(store), accepted_(accepted), metrics_(metrics), log_(log) {}

  void add_observer(std::shared_ptr<UplinkObserver> observer) { observers_.push_back(std::move(observer)); }

  // `expected_node`: the topic's node, or the id a link is bound to ("" if unbound). Returns the
  // check; on success the node id is in last_node_id().
  UplinkCheck on_uplink(std::span<const uint8_t> bytes, std::string_view expected_node,
                        const std::shared_ptr<DownlinkSink>& via);
  // The checks of on_uplink, counted and logged alike, without acting on the uplink: a link that
  // has not proven its node yet runs them before it believes the id the uplink claims.
  UplinkCheck check(std::span<const uint8_t> bytes, std::string_view expected_node, std::string_view bearer);
  // The retained tinyedge/v1/<node>/state payload: "online" or "offline".
  void on_state(std::string_view node_id, std::string_view payload);
  // A bearer's connection to a proven node came up or went down (a serial link bound or closed, a
  // BLE connection made or lost): stored like a state message.
  void on_link(std::string_view node_id, bool up, std::string_view bearer);
  // Messages the bearer could not even attribute (unparseable topic, bad frame).
  void reject(std::string_view bearer, std::string_view what, std::string_view detail);

  std::string_view last_node_id() const { return node_id_of(uplink_); }
  // The uplink the last check() or on_uplink() decoded (valid when it returned kOk).
  const tinyedge_v1_Uplink& last_uplink() const { return uplink_; }

 private:
  bool should_log(size_t kind);

  Store& store_;
  AcceptedUplinks& accepted_;
  Metrics& metrics_;
  Logger& log_;
  std::vector<std::shared_ptr<UplinkObserver>> observers_;
  tinyedge_v1_Uplink uplink_{};  // large: kept here, not on the stack
  // Rate limit for bad-input lines: per kind, at most kLogBurst per second.
  static constexpr size_t kKinds = 17;
  static constexpr int kLogBurst = 20;
  std::chrono::steady_clock::time_point window_[kKinds]{};
  int logged_[kKinds]{};
  uint64_t suppressed_[kKinds]{};
};

}  // namespace tinyedge::gateway
