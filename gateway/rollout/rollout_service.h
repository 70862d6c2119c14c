// The rollout service: owns the running rollouts' engines, persists every change, feeds them the
// fleet's uplinks and stored inference results, turns their actions into offers, rollback grants
// and cancels, and serves chunks through the rate-limited OTA server. Its run_once() is driven
// from the gateway's io_context (rollout_runner.h); the RolloutControl methods may be called from
// any thread (one mutex; actions they cause are sent by the next run_once()).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gateway/rollout/fleet.h"
#include "gateway/rollout/model_registry.h"
#include "gateway/rollout/ota_server.h"
#include "gateway/rollout/rollout_api.h"
#include "gateway/rollout/rollout_engine.h"
#include "gateway/rollout/rollout_mailbox.h"
#include "gateway/rollout/rollout_store.h"
#include "ota/signing_key.h"

namespace tinyedge::rollout {

struct RolloutServiceConfig {
  OtaServerConfig ota;
  TimeMs fleet_poll_ms = 1000;    // how often online/offline is read from the node table
  TimeMs results_poll_ms = 250;   // how often stored results are read while a wave soaks
  TimeMs max_idle_ms = 200;       // longest run_once() gap even when nothing is due
};

// Bytes on the wire for one node's updates: encoded downlinks and OTA uplinks.
struct WireStats {
  uint64_t downlink_bytes = 0, uplink_bytes = 0, chunk_payload_bytes = 0;
  uint32_t offers = 0, chunks = 0, chunk_requests = 0;
};

class RolloutService : public RolloutControl {
 public:
  using Clock = std::function<TimeMs()>;
  using Log = std::function<void(const std::string&)>;

  // `grant_key`: the rollback key, needed only to sign rollback grants (abort --rollback). It must
  // not be a fleet key the registry verifies packages with (throws std::invalid_argument).
  RolloutService(RolloutStore& store, ModelRegistry& registry, Fleet& fleet, RolloutServiceConfig config,
                 Clock clock, std::optional<ota::SigningKey> grant_key = std::nullopt, Log log = {});

  // Loads every unfinished rollout from the store (call once, before run_once).
  void restore();
  // Several gateways on one store (the store has a mailbox): only the one holding the leader lease
  // runs the rollouts. The others serve chunk requests, store the rollouts operators start on them,
  // pass pause/resume/abort and rollout uplinks on to the leader through the mailbox, and answer
  // reads from the store. Taking the lead loads every unfinished rollout as the last leader left
  // it (its offers stand); losing it drops the engines. Without a mailbox the service always leads.
  void set_leading(bool leading);
  bool leading() const;
  // Hello, OtaStatus, ChunkRequest and Telemetry uplinks. Every uplink carries the node's boot id:
  // a new one while a wave soaks is a reboot, which the quality gate counts as an inference error,
  // as it does the failed inferences a Telemetry reports.
  void on_uplink(const std::string& node_id, const tinyedge_v1_Uplink& uplink);
  // Advances everything; returns when it wants to run again.
  TimeMs run_once();
  // Called (with no lock held) when an API call or uplink wants run_once() soon.
  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }

  WireStats wire_stats(const std::string& node_id) const;
  std::map<std::string, WireStats> all_wire_stats() const;
  // Times the OTA server held chunks back because a bearer's queue was deep (or refused one).
  uint64_t ota_backoffs() const;
  // Chunks dropped because their node had no route when they were due (the node asks again).
  uint64_t ota_undeliverable() const;

  // RolloutControl
  ModelRow upload_model(std::span<const uint8_t> package_bytes) override;
  std::vector<ModelRow> models() override;
  std::vector<uint8_t> model_payload(int64_t registry_id) override;
  RolloutView start(const RolloutRequest& request) override;
  std::vector<RolloutView> list() override;
  RolloutView get(int64_t id, bool with_nodes) override;
  RolloutView pause(int64_t id) override;
  RolloutView resume(int64_t id) override;
  RolloutView abort(int64_t id, bool rollback) override;
  RolloutView cancel_node(int64_t id, const std::string& node_id) override;

 private:
  RolloutView view_of(const RolloutEngine& engine, bool with_nodes) const;
  RolloutEngine* active(int64_t id);
  // False (and logged) when the store refused the write.
  bool persist(RolloutEngine& engine);
  void execute(RolloutEngine& engine, const std::vector<Action>& actions, TimeMs now);
  void ensure_served(const PackageRef& package);
  // The delta of `package` made against the model the node runs (none: the full package), served
  // from now on.
  std::optional<DeltaRow> delta_for(const std::string& node_id, const PackageRef& package);
  // Answers an in-flight node's chunk requests from the package its stored record says it was
  // offered (a restarted gateway, a new leader, a follower).
  void serve_offered(const RolloutRecord& record, const NodeRecord& node);
  // The registry id of `package`'s delta from the installed model `base_sha256` (0: the registry
  // holds none), served from now on.
  int64_t served_delta(const PackageRef& package, const std::string& base_sha256);
  // Follower: which package the leader offered `node_id` for model_id v`version`, read from the
  // store at the node's first chunk request for it (the follower's poll may not have seen the offer).
  void learn_offer(const std::string& node_id, uint32_t model_id, uint32_t version);
  const ota::SignedRollbackGrant& grant_for(const RolloutEngine& engine, TimeMs now);
  bool send(const std::string& node_id, const tinyedge_v1_Downlink& downlink);
  void poll_fleet(TimeMs now);
  void note_boot(const std::string& node_id, uint32_t boot_id);
  // Telemetry's failed_inferences grew since the node's last report: errors for the gate.
  void note_failed_inferences(const std::string& node_id, uint32_t boot_id, uint32_t failed);
  void poll_results(TimeMs now);
  void wake();
  // Unfinished rollouts from the store; `take_over`: another gateway led them until now.
  void load_unfinished(bool take_over, TimeMs now);
  // Leader: rollouts another gateway stored since the last look. Follower: what to serve.
  void adopt_new_rollouts(TimeMs now);
  void follow_store();
  void deliver_mail();
  void forward_to_leader(const std::string& node_id, const tinyedge_v1_Uplink& uplink);
  RolloutView relay(int64_t id, RolloutCommand::Kind kind, const std::string& node_id = "");

  mutable std::mutex mutex_;
  RolloutStore& store_;
  ModelRegistry& registry_;
  Fleet& fleet_;
  RolloutServiceConfig config_;
  Clock clock_;
  std::optional<ota::SigningKey> grant_key_;
  Log log_;
  std::function<void()> wake_;
  RolloutMailbox* mailbox_;
  bool leading_;
  bool rollouts_unfinished_ = false;  // follower: the store holds a rollout that is not over
  // Follower: the nodes whose offer was read from the store (node, model id, version); cleared by
  // each poll of the store, which serves every in-flight node's offer again.
  std::set<std::tuple<std::string, uint32_t, uint32_t>> offers_learned_;
  // (full package's registry id, base SHA-256) -> the delta's registry id, 0 when none: the
  // registry's answer, kept (a delta is never removed).
  std::map<std::pair<int64_t, std::string>, int64_t> delta_ids_;
  OtaServer ota_;
  std::map<int64_t, std::unique_ptr<RolloutEngine>> engines_;  // unfinished rollouts
  std::map<int64_t, std::vector<Action>> queued_actions_;       // from API calls, sent by run_once
  std::map<int64_t, ota::SignedRollbackGrant> grants_;
  std::map<std::string, bool> online_;
  struct RunningModel {
    uint32_t model_id = 0, version = 0;
    TimeMs said_at = -1;  // when the node said so itself (Hello, OTA activation); -1: the node table
  };
  // What each node runs: which delta it gets. The node table lags behind the uplinks (the store
  // writes in batches) and knows no model when it missed a node's Hello, so what a node said
  // itself stands against a table that knows nothing or has had no time to catch up; after that
  // the table (which other gateways' uplinks reach too) is the truth.
  std::map<std::string, RunningModel> running_;
  void learn_from_table(const FleetNode& node, TimeMs now);
  std::map<std::string, uint32_t> boot_ids_;  // last boot id seen per node (Hello, Telemetry, OTA)
  struct FailureCount {
    uint32_t boot_id = 0;
    uint32_t failed = 0;
  };
  std::map<std::string, FailureCount> failed_inferences_;  // per node, as its last Telemetry said
  std::map<std::string, WireStats> wire_;
  TimeMs next_fleet_poll_ = 0;
  TimeMs next_results_poll_ = 0;
  int64_t results_cursor_ = -1;
};

}  // namespace tinyedge::rollout
