// Holds the gateway's SQLite store to the fleet's sent logs: every seq a node sent is stored
// exactly once, nothing is stored that no node sent. Reads the file read-only, after the gateway
// has stopped (schema: gateway/store/migrations.cpp).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/soak/sent_ledger.h"

namespace tinyedge::soak {

struct StoredEvent {
  std::string node;
  uint32_t boot = 0;
  uint32_t seq = 0;
  int64_t at_ms = 0;        // when the node made it (received_ms - age_ms), Unix ms
  int64_t received_ms = 0;  // when the gateway took it in
  uint32_t model_version = 0;
};

// Every row of `events` with its node id. Throws gateway::sql::Error if the file cannot be read.
std::vector<StoredEvent> read_events(const std::string& db_path);

struct AuditReport {
  uint64_t nodes_sent = 0;     // nodes with at least one sent line
  uint64_t sent_distinct = 0;  // (node, boot, seq) handed to MQTT at least once
  uint64_t sent_copies = 0;    // every copy, resends included
  uint64_t stored_rows = 0;
  uint64_t missing = 0;          // sent, not stored
  uint64_t duplicated = 0;       // extra rows beyond the first for one (node, boot, seq)
  uint64_t unexpected = 0;       // stored, never sent by that node boot
  uint64_t never_sent = 0;       // produced (per the final line) but never sent: ring overflow
  uint64_t unacked_at_exit = 0;  // final lines' unacked counts, summed
  uint64_t boots_without_final = 0;
  std::vector<std::string> missing_examples, duplicated_examples, unexpected_examples, never_sent_examples;

  bool exactly_once() const { return missing == 0 && duplicated == 0 && unexpected == 0; }
  std::string summary() const;  // counts and up to a few examples of each problem
};

AuditReport audit(const SentLedger& ledger, const std::vector<StoredEvent>& events);

// How the store came back after an outage from `down_ms` to `up_ms` (Unix ms): the first result
// stored after `up_ms`, and when the last result made before `up_ms` (and at most `window_ms`
// before `down_ms`) was stored, both relative to `up_ms`. -1 when no such result exists.
struct Recovery {
  int64_t resumed_ms = -1;
  int64_t caught_up_ms = -1;
};
Recovery recovery_after(const std::vector<StoredEvent>& events, int64_t down_ms, int64_t up_ms,
                        int64_t window_ms = 5000);

// The rollout as the gateway persisted it.
struct RolloutOutcome {
  std::string state, reason;
  int64_t created_ms = 0, last_finished_ms = 0;
  uint32_t version = 0;
  std::map<std::string, uint32_t> node_states;      // state -> nodes
  std::vector<std::string> not_activated_examples;  // "node state (reason)"
  uint32_t nodes = 0;
};
RolloutOutcome read_rollout(const std::string& db_path, int64_t rollout_id);

// Nodes whose newest stored result (highest boot, then seq) was not made by `version`:
// the node's own evidence that it runs the new model.
std::vector<std::string> nodes_not_reporting_version(const std::vector<StoredEvent>& events, uint32_t version);

// Nodes whose results, in (boot, seq) order, ever go back to an older model version: an update
// that flipped back, or results labelled with the wrong model. "node vA->vB at seq S" each.
std::vector<std::string> version_regressions(const std::vector<StoredEvent>& events);

// Rows of the gateway's `nodes` table (its fleet view) whose model_version is not `version`.
std::vector<std::string> fleet_view_not_on_version(const std::string& db_path, uint32_t version);

}  // namespace tinyedge::soak
