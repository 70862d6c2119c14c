// Vocabulary of a rollout: the per-node update states, the rollout's own state, and the
// strategy an operator chose (canary, waves, soak, concurrency, timeouts, failure threshold).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tinyedge::rollout {

// Milliseconds since the Unix epoch. Persisted, so a restarted gateway keeps its deadlines.
using TimeMs = int64_t;

enum class NodeState : uint8_t {
  kPending,      // not offered yet (waiting for its wave, a transfer slot, or to come online)
  kOffered,      // UpdateOffer sent, no answer yet
  kDownloading,  // chunks flowing; progress in bytes_written / total_bytes
  kVerifying,    // hash + self-test on the node
  kActivated,    // running the rollout's version
  kRefused,      // refused before downloading (reason says why)
  kFailed,       // failed after the download started (reason says why)
  kTimedOut,     // no progress within the node timeout, or still not done at the deadline
  kCancelled,    // taken out of the rollout by the operator: keeps the model it ran
};
std::string_view to_string(NodeState state);
std::optional<NodeState> node_state_from_string(std::string_view text);
bool is_terminal(NodeState state);
bool is_in_flight(NodeState state);  // offered, downloading or verifying: holds a transfer slot
bool is_failure(NodeState state);    // refused, failed, timed out (a cancelled node is not a failure)

enum class RolloutState : uint8_t {
  kRunning,
  kPaused,       // by the operator or by the rollout itself (pause_reason says which)
  kCompleted,
  kAborted,
  kRollingBack,  // aborted with rollback: the previous version is being offered back
  kRolledBack,
};
std::string_view to_string(RolloutState state);
std::optional<RolloutState> rollout_state_from_string(std::string_view text);

// "5" nodes or "5%" of the target.
struct CountOrPercent {
  double value = 0;
  bool percent = false;
  std::string to_string() const;
};

// Bounds of the model-quality gate; a bound <= 0 (or min_samples 0 for the gate as a whole)
// switches that check off.
struct GateBounds {
  bool enabled = true;
  uint32_t min_samples = 50;            // per cohort (updated vs old model) before judging
  double max_mean_score_drop = 0.10;    // mean top-1 score (0..1) of old minus new
  double max_label_jsd = 0.10;          // Jensen-Shannon divergence of label frequencies, bits (0..1)
  double max_p95_latency_increase = 0.50;  // (p95 new / p95 old) - 1
  double max_error_rate_increase = 0.05;   // error rate new minus old
  // On replayed data sets (sample ids): share of samples where new and old models disagree.
  double max_disagreement = 0.25;
  uint32_t min_shared_samples = 20;        // sample ids both cohorts answered, before judging that
};

struct Strategy {
  CountOrPercent canary{1, false};
  std::vector<double> waves{100};        // cumulative percent of the target, ascending, ends at 100
  CountOrPercent max_failures{0, false};  // pause when failures exceed this (ratio: of nodes offered)
  int64_t soak_ms = 0;                   // wait after each phase before the next (gate runs here)
  uint32_t max_concurrent = 50;          // nodes in offered/downloading/verifying at once
  int64_t node_timeout_ms = 10 * 60 * 1000;  // no progress for this long: timed out
  int64_t deadline_ms = 24 * 3600 * 1000;    // from the start; offline nodes wait until then
  GateBounds gate;
};

// Parsers for the operator's words; each throws std::invalid_argument naming the problem.
CountOrPercent parse_count_or_percent(std::string_view text, std::string_view what);
std::vector<double> parse_waves(std::string_view text);
int64_t parse_duration_ms(std::string_view text, std::string_view what);  // "500ms", "30s", "5m", "2h"
std::string format_duration_ms(int64_t ms);
void validate(const Strategy& strategy);  // throws std::invalid_argument

// Nodes per phase for a target of `target_size` nodes: phase 0 is the canary (if any), then one
// entry per non-empty wave. Cumulative sizes, each >= the previous, the last == target_size.
std::vector<uint32_t> plan_phase_ends(const Strategy& strategy, uint32_t target_size);

}  // namespace tinyedge::rollout
