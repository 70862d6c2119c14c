// Where downlinks go. Every bearer (the MQTT client, each serial/socket link) is a DownlinkSink;
// the router remembers which sink each node was last heard on and sends there.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "gateway/core/log.h"
#include "gateway/core/metrics.h"
#include "protocol/codec.h"

namespace tinyedge::gateway {

class DownlinkSink {
 public:
  virtual ~DownlinkSink() = default;
  // Sends one encoded Downlink to `node_id`; false if the bearer cannot take it now.
  virtual bool send(const std::string& node_id, std::span<const uint8_t> payload) = 0;
  // "mqtt", "unix-listen:/run/x.sock#3"...: stored as nodes.bearer.
  virtual const std::string& bearer_name() const = 0;
  // Downlinks taken but not delivered yet (e.g. MQTT publishes the broker has not acknowledged):
  // bulk senders (OTA chunks) hold back while this is deep.
  virtual size_t backlog() const { return 0; }
};

class Router {
 public:
  Router(Metrics& metrics, Logger& log) : metrics_(metrics), log_(log) {}

  // Called by ingest for every valid uplink.
  void seen(const std::string& node_id, const std::shared_ptr<DownlinkSink>& sink);
  // Encodes and sends over the bearer the node was last seen on. Thread-safe. Assigns
  // downlink.seq if it is 0. False (and counted) if the node has no live bearer.
  bool send_downlink(const std::string& node_id, const tinyedge_v1_Downlink& downlink);
  bool send_ack(const std::string& node_id, uint32_t boot_id, uint32_t through_seq);
  std::string bearer_of(const std::string& node_id);
  // The backlog of the bearer the node was last seen on (0 when it has none).
  size_t backlog_of(const std::string& node_id);

 private:
  Metrics& metrics_;
  Logger& log_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::weak_ptr<DownlinkSink>> routes_;
  uint32_t next_seq_ = 1;
};

}  // namespace tinyedge::gateway
