// Where downlinks go. Every bearer's link (the MQTT client, each serial/socket link, each BLE
// connection) is a DownlinkSink; the router remembers which sink each node was last heard on and
// sends there. The daemon tells it (Router::seen) whenever ingest accepts an uplink.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "gateway/core/downlink_sink.h"
#include "gateway/core/log.h"
#include "gateway/core/metrics.h"
#include "gateway/ingest/ingest.h"
#include "protocol/codec.h"

namespace tinyedge::gateway {

class Router final : public AcceptedUplinks {
 public:
  Router(Metrics& metrics, Logger& log) : metrics_(metrics), log_(log) {}

  // Wired by the daemon to ingest's accepted uplinks.
  void seen(const std::string& node_id, const std::shared_ptr<DownlinkSink>& sink);
  void accepted(const std::string& node_id, const std::shared_ptr<DownlinkSink>& via) override { seen(node_id, via); }
  // Encodes and sends over the bearer the node was last seen on. Thread-safe. Assigns
  // downlink.seq if it is 0. False (and counted) if the node has no live bearer.
  bool send_downlink(const std::string& node_id, const tinyedge_v1_Downlink& downlink);
  bool send_ack(const std::string& node_id, uint32_t boot_id, uint32_t through_seq);
  std::string bearer_of(const std::string& node_id);
  // The backlog of the bearer the node was last seen on (0 when it has none).
  size_t backlog_of(const std::string& node_id);
  // How OTA chunks should be cut and paced on the node's link ({} when it has none).
  BulkShape bulk_shape_of(const std::string& node_id);

 private:
  Metrics& metrics_;
  Logger& log_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::weak_ptr<DownlinkSink>> routes_;
  uint32_t next_seq_ = 1;
};

}  // namespace tinyedge::gateway
