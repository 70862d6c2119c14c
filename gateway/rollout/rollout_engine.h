// One rollout's state machine: which node gets the package when, what each node reported, when a
// phase (canary, then waves) is done, when to soak, pause, complete, or roll back. Plain C++:
// time comes in as an argument, effects go out as Actions, persistence reads the records. The
// service around it (rollout_service.h) does the I/O.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/rollout/quality_gate.h"
#include "gateway/rollout/rollout_types.h"

struct _tinyedge_v1_OtaStatus;

namespace tinyedge::rollout {

// A package a rollout offers, as the engine needs to know it.
struct PackageRef {
  int64_t registry_id = 0;  // row in the model registry (0 = none)
  uint32_t model_id = 0;
  uint32_t version = 0;
};

struct RolloutRecord {
  int64_t id = 0;
  PackageRef package;
  PackageRef previous;  // offered back on abort --rollback (registry_id 0: none known)
  std::string target;   // as the operator wrote it: "all", "group:x", "nodes:a,b"
  Strategy strategy;
  RolloutState state = RolloutState::kRunning;
  uint32_t phase = 0;  // index into phase_ends of the phase being rolled out
  std::vector<uint32_t> phase_ends;
  TimeMs created_at = 0;
  TimeMs updated_at = 0;
  TimeMs deadline_at = 0;
  TimeMs soak_until = 0;        // 0: not soaking
  std::string reason;           // why paused / why it ended the way it did
  uint32_t acked_failures = 0;  // failures the operator accepted by resuming
  uint32_t acked_attempted = 0;
  int32_t gate_override_phase = -1;  // operator resumed past the gate for this phase
  std::string gate_message;          // the gate's latest verdict, for `status`
};

struct NodeRecord {
  std::string node_id;
  uint32_t order = 0;  // position in the rollout order (phase by order < phase_end)
  uint32_t phase = 0;
  NodeState state = NodeState::kPending;
  std::string reason;
  uint32_t bytes_written = 0;
  uint32_t total_bytes = 0;
  uint32_t attempts = 0;
  TimeMs offered_at = 0;
  TimeMs last_activity = 0;
  TimeMs finished_at = 0;
  bool rollback = false;      // the state is about the rollback offer, not the new package
  uint32_t from_version = 0;  // version it ran when the rollout started (0: unknown)
  // Refused a delta because its active model is not the delta's base (OTA_BASE_MISMATCH): only
  // the full package is offered to it now. Stored, so a restarted gateway does not offer it again.
  bool full_only = false;
  // The package it was last offered: "" the full one, else the delta's base (its installed
  // SHA-256, hex). Stored before the offer is sent: a chunk request names only the version, so
  // whichever gateway answers it (a follower, this one restarted) serves the package the store says.
  std::string offered_base;
  // Not persisted: learned from the bearer after (re)start.
  bool online = false;
  TimeMs last_offer_sent = -1;
};

// A node the rollout targets, as the gateway knows it when the rollout starts.
struct TargetNode {
  std::string node_id;
  bool online = false;
  uint32_t model_id = 0;
  uint32_t model_version = 0;
};

struct Action {
  enum class Kind : uint8_t { kOffer, kCancel };
  Kind kind;
  std::string node_id;
  bool rollback = false;  // offer the previous package with the rollback grant
  bool full_only = false;  // the full package, never a delta (the node refused one)
  bool again = false;      // the offer the node had is offered again (lost): the same package
};

struct PhaseSummary {
  std::string name;  // "canary", "wave 1", ...
  uint32_t size = 0;
  std::map<NodeState, uint32_t> counts;
  uint64_t bytes_written = 0, total_bytes = 0;
};

class RolloutEngine {
 public:
  // A new rollout over `nodes` (deduplicated; online nodes first so the canary can start now).
  // Throws std::invalid_argument for a bad strategy.
  static RolloutEngine create(RolloutRecord record, std::vector<TargetNode> nodes, TimeMs now);
  // A rollout restored from the store; in-flight nodes get a fresh timeout.
  RolloutEngine(RolloutRecord record, std::vector<NodeRecord> nodes, TimeMs now);

  // Another gateway led this rollout until now (it died or lost its lease): its offers stand, so
  // the nodes in flight go on downloading from whichever gateway answers their chunk requests and
  // are not offered again unless they reconnect or reboot, or say nothing for 5 s (their last
  // status may have gone to the gateway that died). `online` is the node table's view.
  void take_over(const std::map<std::string, bool>& online, TimeMs now);
  // Bearer and uplink events.
  void on_online(std::string_view node_id, bool online, TimeMs now);
  void on_hello(std::string_view node_id, uint32_t model_id, uint32_t model_version, TimeMs now);
  // The offer could not be sent (no route to the node yet): it counts as offline until the
  // gateway sees it again, and keeps its place.
  void on_offer_undeliverable(std::string_view node_id, TimeMs now);
  void on_status(std::string_view node_id, const _tinyedge_v1_OtaStatus& status, TimeMs now);
  void on_inference(std::string_view node_id, uint32_t model_id, uint32_t model_version, uint32_t label, uint32_t score,
                    uint32_t latency_us, uint32_t sample_id = 0);
  // The node restarted (its boot id changed) while a wave soaks: a crash or watchdog reset lost
  // the inference it was running, so it counts as an error of the model it ran (the updated
  // cohort if it activated this rollout's version, the baseline otherwise). Ignored while the
  // node is updating: a restart then is the update's business, not the model's.
  void on_reboot(std::string_view node_id);
  // `count` more inferences failed on the node (its Telemetry's failed_inferences grew): errors
  // of the model it runs, counted like a reboot.
  void on_failed_inferences(std::string_view node_id, uint32_t count);

  // Advances the rollout: offers, timeouts, thresholds, soak, gate, phases. Call on every event
  // and on a timer (next_wakeup).
  std::vector<Action> tick(TimeMs now);
  TimeMs next_wakeup(TimeMs now) const;

  // Operator commands; each throws std::logic_error (with the reason) when not allowed now.
  void pause(std::string reason, TimeMs now);
  void resume(TimeMs now);
  std::vector<Action> abort(bool rollback, TimeMs now);
  // Takes one node out of the rollout: it ends cancelled (not a failure: it keeps the model it
  // ran), a node in flight is told to stop, the others go on. Throws std::out_of_range when the
  // rollout does not target the node, std::logic_error (with the reason) when the node has already
  // activated or ended, or the rollout is over.
  std::vector<Action> cancel_node(std::string_view node_id, TimeMs now);
  // The service offers the node the full package ("") or the delta from `base_sha256`: kept in
  // its record (stored with it).
  void set_offered(std::string_view node_id, const std::string& base_sha256);

  void set_id(int64_t id) { record_.id = id; }
  const RolloutRecord& record() const { return record_; }
  const std::vector<NodeRecord>& nodes() const { return nodes_; }
  const NodeRecord* node(std::string_view node_id) const;
  bool targets(std::string_view node_id) const { return index_.count(std::string(node_id)) != 0; }
  bool finished() const;
  std::vector<PhaseSummary> phases() const;
  std::string phase_name(uint32_t phase) const;
  uint32_t failures() const;   // forward failures
  uint32_t attempted() const;  // nodes that left pending (forward)
  const CohortStats& updated_cohort() const { return updated_; }
  const CohortStats& baseline_cohort() const { return baseline_; }

  // What changed since the last call, for the store.
  std::vector<std::string> take_dirty_nodes();
  bool take_dirty_record();

 private:
  RolloutEngine() = default;
  NodeRecord* find(std::string_view node_id);
  void touch(NodeRecord& node);
  void set_state(NodeRecord& node, NodeState state, std::string reason, TimeMs now);
  void set_rollout_state(RolloutState state, std::string reason, TimeMs now);
  uint32_t expected_version(const NodeRecord& node) const;
  void count_errors(std::string_view node_id, uint32_t count);
  void check_failure_threshold(TimeMs now);
  bool phase_done(uint32_t phase) const;
  void advance(TimeMs now);
  void start_soak(TimeMs now);
  void offer_pending(TimeMs now, std::vector<Action>& actions);
  void finish_rollback_if_done(TimeMs now);
  uint32_t in_flight() const;

  RolloutRecord record_;
  std::vector<NodeRecord> nodes_;
  std::map<std::string, size_t> index_;
  CohortStats updated_, baseline_;
  std::set<std::string> dirty_nodes_;
  bool dirty_record_ = false;
  TimeMs taken_over_at_ = -1;      // take_over() time, for kTakeoverWatchMs after it
  TimeMs takeover_round_at_ = -1;  // the last round of re-offers to silent in-flight nodes
};

}  // namespace tinyedge::rollout
