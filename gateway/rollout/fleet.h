// What the rollout service needs from the gateway, as an interface so the service runs the same
// against the real daemon (gateway_fleet.h) and against an in-process fleet in tests.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tinyedge.pb.h"

namespace tinyedge::rollout {

struct FleetNode {
  std::string node_id;
  bool online = false;
  std::string hardware;
  uint32_t model_id = 0;
  uint32_t model_version = 0;
  std::vector<std::string> groups;
};

struct InferenceRow {
  std::string node_id;
  uint32_t model_id = 0, model_version = 0, label = 0, score = 0, latency_us = 0, sample_id = 0;
};

// How one node's link wants OTA chunks cut and paced (bearer/ble sizes it from the BLE MTU).
// Zeros: the OTA server's chunk size and backlog limit, the node's own window.
struct LinkShape {
  uint32_t chunk_bytes = 0;
  uint32_t window = 0;
  size_t max_backlog = 0;
};

class Fleet {
 public:
  virtual ~Fleet() = default;
  virtual std::vector<FleetNode> nodes() = 0;
  // Over the node's bearer; false if the node has no route right now.
  virtual bool send(const std::string& node_id, const tinyedge_v1_Downlink& downlink) = 0;
  // Downlinks queued on the node's bearer and not yet delivered (e.g. MQTT publishes the broker
  // has not acknowledged): the OTA server holds back chunks while this is deep.
  virtual size_t downlink_backlog(const std::string& /*node_id*/) { return 0; }
  // The shape of the link the node is on now ({} for none or no preference).
  virtual LinkShape link_shape(const std::string& /*node_id*/) { return {}; }
  // Stored inference results after `cursor` (exclusive), at most `limit`; advances `cursor`.
  virtual std::vector<InferenceRow> results_since(int64_t& cursor, size_t limit) = 0;
  // The cursor of the newest stored result: where a soak starts reading.
  virtual int64_t results_cursor() = 0;
};

}  // namespace tinyedge::rollout
