// What the ingest path hands to the store: plain owned values, decoupled from nanopb structs.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace tinyedge::gateway {

struct ResultRecord {
  uint32_t label = 0;
  uint32_t score = 0;
  uint32_t latency_us = 0;
  uint32_t age_ms = 0;
  uint32_t sample_id = 0;
  std::vector<std::pair<uint32_t, uint32_t>> runners_up;  // (label, score), top-2..top-k
};

// One Uplink's InferenceResults: results[i] has seq first_seq + i.
struct ResultsItem {
  std::string node_id;
  uint32_t boot_id = 0;
  uint32_t first_seq = 0;
  uint32_t model_id = 0;
  uint32_t model_version = 0;
  int64_t received_ms = 0;
  std::string bearer;
  std::vector<ResultRecord> results;
};

struct HelloItem {
  std::string node_id;
  uint32_t boot_id = 0;
  int64_t received_ms = 0;
  std::string bearer;
  std::string hardware;
  uint32_t firmware_version = 0, model_id = 0, model_version = 0, slot_bytes = 0, arena_bytes = 0;
  std::string key_id_hex;
  std::string model_name;
};

struct TelemetryItem {
  std::string node_id;
  uint32_t boot_id = 0;
  int64_t received_ms = 0;
  std::string bearer;
  uint32_t uptime_s = 0, inferences = 0, free_ram_bytes = 0, last_latency_us = 0, dropped_results = 0,
           pending_results = 0, reconnects = 0, failed_inferences = 0;
};

struct OtaStatusItem {
  std::string node_id;
  uint32_t boot_id = 0;
  int64_t received_ms = 0;
  std::string bearer;
  uint32_t model_id = 0, version = 0, state = 0, reason = 0, bytes_written = 0, total_bytes = 0, active_version = 0;
};

// Online/offline from the retained state topic (the last will says offline).
struct StateItem {
  std::string node_id;
  bool online = false;
  int64_t received_ms = 0;
};

// Replaces a node's group/tag list.
struct GroupsItem {
  std::string node_id;
  std::vector<std::string> groups;
};

// A node's answer to an EnrollCommand (node_firmware/app/enroll_service.h): the outcome of one
// start/remove/list, and every label the node holds enrolled after it, in its table's order (the
// node classifies enrolled class i as label index trained + i). `enrolled` replaces what the store
// held for this node alone; a start that succeeded also records the new class's figures.
struct EnrollmentItem {
  std::string node_id;
  uint32_t boot_id = 0;
  int64_t received_ms = 0;
  std::string bearer;
  uint32_t action = 0, refusal = 0;  // EnrollCommand.Action, EnrollRefusal
  std::string label;
  uint32_t examples_used = 0, distance_q14 = 0;
  std::string nearest_label;
  std::vector<std::string> enrolled;
  uint32_t model_id = 0, model_version = 0;
  // The class `label` names as the node reported it (an encoded SharedClass, hex, sequence 0):
  // what `tinyedge enroll share` signs and sends to other nodes. Empty when not reported.
  std::string shared_class;
};

using StoreItem =
    std::variant<ResultsItem, HelloItem, TelemetryItem, OtaStatusItem, StateItem, GroupsItem, EnrollmentItem>;

// Sent to the node after the commit that made its results durable.
struct AckNotice {
  std::string node_id;
  uint32_t boot_id = 0;
  uint32_t through_seq = 0;
};

}  // namespace tinyedge::gateway
