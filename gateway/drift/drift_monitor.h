// The gateway's drift watch: tails the stored results (any gateway's: the store is shared), feeds
// one DriftDetector per (model, version, node group), and keeps the alarms those raise. Nodes
// without a group are watched together under the group "". It runs on a thread of its own with a
// query of its own, so a slow store read never stalls ingest, and starts from the newest result.
//
// Baselines are kept in the store (drift_baseline_store.h): loaded at start, so a restarted gateway
// judges what nodes send now against what it learnt before (drifted input is not learnt as the new
// normal); written at the end of a pass in which one grew (at most once per pass, and never again
// once formed); with several gateways on PostgreSQL, a watch still learning takes a baseline
// another gateway has formed. An operator's rebaseline deletes the stored one.
//
// Input statistics come from Telemetry, which this gateway's ingest hands over as it arrives
// (add_input, any thread): they are queued and fed on the watch's thread to the node's current
// model version and groups, as the node table has them. Only the gateway a node talks to sees its
// input statistics (Telemetry is not tailed from the store).
#pragma once
#include <atomic>
#include <compare>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/core/log.h"
#include "gateway/drift/drift_detector.h"
#include "gateway/drift/input_drift.h"
#include "gateway/store/drift_baseline_store.h"
#include "gateway/store/query.h"

namespace tinyedge::drift {

struct DriftKey {
  uint32_t model_id = 0, version = 0;
  std::string group;
  auto operator<=>(const DriftKey&) const = default;
};
std::string to_string(const DriftKey& key);  // "model 7 v2 group cameras"

struct DriftAlert {
  uint64_t id = 0;
  DriftKey key;
  DriftKind kind = DriftKind::kLabelMix;
  int64_t raised_ms = 0;
  int64_t cleared_ms = 0;         // 0 while active
  std::string cleared_by;         // "distribution returned", "rebaselined by operator"
  Divergence at_raise;            // label_mix and score alarms
  InputShift input_at_raise;      // input_mean and input_stddev alarms
  uint64_t results_at_raise = 0;  // results this key had seen when it was raised
  uint64_t periods_at_raise = 0;  // input alarms: telemetry periods this key had seen
};

struct DriftWatch {
  DriftKey key;
  DriftReading reading;
  InputReading input;                 // periods == 0: no node of this watch reports input statistics
  int64_t first_ms = 0, last_ms = 0;  // inference times of the first and latest results seen
};

class DriftMonitor {
 public:
  using QueryOpener = std::function<std::unique_ptr<gateway::Query>()>;
  // Null: baselines live in memory only (learnt again after a restart).
  using BaselineOpener = std::function<std::unique_ptr<gateway::DriftBaselineStore>()>;
  static constexpr size_t kMaxWatches = 512;  // the least recently fed is dropped beyond it
  static constexpr size_t kAlertHistory = 256;

  DriftMonitor(DriftOptions options, QueryOpener open_query, gateway::Logger& log,
               BaselineOpener open_baselines = nullptr);
  ~DriftMonitor();  // stops the thread
  DriftMonitor(const DriftMonitor&) = delete;
  DriftMonitor& operator=(const DriftMonitor&) = delete;

  // Starts tailing from the newest stored result, every `period_ms`.
  void start(int period_ms = 500);
  // One pass (the thread's body; tests call it directly): reads what was stored since the last.
  void poll();
  // One node's Telemetry input sums (checked by ingest), fed at the next poll(). Bounded: beyond
  // kMaxPendingInputs unfed periods the newest are dropped (the watch thread is far behind).
  void add_input(const std::string& node_id, const InputPeriod& period);
  static constexpr size_t kMaxPendingInputs = 10000;

  std::vector<DriftWatch> watches() const;
  std::vector<DriftAlert> alerts() const;  // newest first, active and cleared
  // false when nothing watches `key`.
  bool rebaseline(const DriftKey& key, int64_t now_ms);

 private:
  struct Watch {
    explicit Watch(const DriftOptions& o) : detector(o), input(o) {}
    DriftDetector detector;
    InputDriftDetector input;
    int64_t first_ms = 0, last_ms = 0;
    uint64_t fed_at = 0;                            // feed counter when last fed: least recently fed is evicted
    uint64_t saved_results = 0, saved_periods = 0;  // baseline counts the store holds
  };
  void feed(const gateway::EventRow& row);
  void feed_one(const DriftKey& key, const gateway::EventRow& row);
  void refresh_groups();
  Watch& watch_for(const DriftKey& key, int64_t at_ms);  // mutex_ held
  void feed_inputs();
  // Loads the stored baselines once, then deletes what operators rebaselined, writes the
  // baselines that grew, and every kBaselinesRefreshMs gives a watch still learning one another
  // gateway formed. A store out of reach is said once and retried the next pass.
  void sync_baselines();
  void adopt(const std::vector<gateway::DriftBaselineRecord>& records, bool at_start);
  void record(const DriftKey& key, const Watch& watch, const DriftChange& change, int64_t at_ms);
  void record_input(const DriftKey& key, const Watch& watch, const InputChange& change, int64_t at_ms);

  const DriftOptions options_;
  QueryOpener open_query_;
  gateway::Logger& log_;
  std::unique_ptr<gateway::Query> query_;  // the thread's own
  int64_t cursor_ = -1;                    // -1: not started; begin at the newest
  std::map<std::string, std::vector<std::string>> groups_;
  std::map<std::string, std::pair<uint32_t, uint32_t>> models_;  // node -> (model id, version) it runs
  int64_t groups_read_ms_ = 0;
  bool store_failing_ = false;

  BaselineOpener open_baselines_;
  std::unique_ptr<gateway::DriftBaselineStore> baselines_;  // the thread's own
  bool baselines_loaded_ = false, baselines_failing_ = false;
  int64_t baselines_read_ms_ = 0;
  std::vector<DriftKey> refused_baselines_;  // rows refused (and said so) once each

  mutable std::mutex mutex_;  // guards what the API reads: watches_, alerts_
  std::map<DriftKey, Watch> watches_;
  std::deque<DriftAlert> alerts_;
  std::vector<DriftKey> forgotten_;  // rebaselined: their stored baselines to delete
  uint64_t next_alert_id_ = 1, feeds_ = 0;

  std::mutex inputs_mutex_;  // guards pending_inputs_ (filled by ingest's thread)
  std::vector<std::pair<std::string, InputPeriod>> pending_inputs_;

  std::thread thread_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace tinyedge::drift
