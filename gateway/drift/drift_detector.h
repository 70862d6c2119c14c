// Drift of one model version's outputs in one node group: the label mix and the top-1 score
// distribution of the latest `window` results, held against a baseline learnt from the first
// `baseline` results that version produced in that group. A model whose inputs move away from
// what it was trained on (a dirty lens, a new microphone, a season) answers differently long
// before anyone measures its accuracy; its output distributions are what the gateway sees.
//
// The test is the quality gate's: Jensen-Shannon divergence judged against a bound of
// `max_jsd` plus the divergence two samples of these sizes from one distribution stay below with
// probability `quantile` (sampling noise). An alarm is raised after `confirm` evaluations in a
// row over the bound, and cleared after `confirm` in a row under it, so one unlucky window
// neither raises nor clears one.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gateway/drift/drift_options.h"

namespace tinyedge::drift {

// Top-1 scores (0..255) fall into 16 bins of 16: fine enough to see a model turn unsure, coarse
// enough that a window of a few hundred results fills them.
inline constexpr uint32_t kScoreBins = 16;

// kInputMean / kInputStddev: the input tensors' statistics from Telemetry (input_drift.h).
enum class DriftKind : uint8_t { kLabelMix, kScore, kInputMean, kInputStddev };
const char* to_string(DriftKind kind);

struct Divergence {
  double jsd = 0, floor = 0, bound = 0;  // bits
  bool over() const { return jsd > bound; }
};

struct DriftReading {
  enum class State : uint8_t { kLearning, kSteady, kDrifting };
  State state = State::kLearning;
  uint64_t baseline_results = 0, window_results = 0, results = 0;
  Divergence label, score;
  std::map<uint32_t, uint64_t> baseline_labels, window_labels;
  std::vector<uint64_t> baseline_scores, window_scores;  // kScoreBins each
};
const char* to_string(DriftReading::State state);

// What changed at one add(): an alarm of `kind` was raised or cleared.
struct DriftChange {
  DriftKind kind;
  bool raised;
  Divergence divergence;
};

// What a detector learnt before judging (kept in the store: drift_baseline_store.h).
struct ResultBaseline {
  uint64_t results = 0;
  std::map<uint32_t, uint64_t> labels;      // label (or kOverflowLabel) -> results
  std::map<uint32_t, uint64_t> score_bins;  // bin (0..kScoreBins-1) -> results
};

class DriftDetector {
 public:
  // Distinct labels kept per histogram: a node reporting label numbers no model has cannot grow
  // the gateway's memory; further labels are counted in one overflow bin.
  static constexpr uint32_t kMaxLabels = 256;
  static constexpr uint32_t kOverflowLabel = 0xFFFFFFFFu;

  explicit DriftDetector(const DriftOptions& options);

  // One result. Returns the alarms raised or cleared by the verdict this result completed.
  std::vector<DriftChange> add(uint32_t label, uint32_t score_0_255);
  // Forget the baseline and learn it again from the next results (an operator accepted the new
  // distribution as normal). Clears both alarms.
  void rebaseline();

  // The baseline as learnt so far (complete once results reach the options' `baseline`).
  ResultBaseline baseline() const { return {base_n_, base_labels_, base_bins_}; }
  bool learning() const { return base_n_ < options_.baseline; }
  // Takes a baseline learnt before (a restart) or by another gateway in place of this one's; a
  // partial one goes on learning. The window starts again: what it held was judged against the
  // other baseline. Alarms stand until verdicts against the new baseline clear them.
  void restore(const ResultBaseline& baseline);

  DriftReading reading() const;
  bool alarmed(DriftKind kind) const { return alarm_[static_cast<int>(kind)]; }

 private:
  struct Entry {
    uint32_t label;
    uint8_t bin;
  };
  uint32_t bounded_label(const std::map<uint32_t, uint64_t>& histogram, uint32_t label) const;
  Divergence judge(const std::map<uint32_t, uint64_t>& base, const std::map<uint32_t, uint64_t>& window,
                   double max_jsd) const;

  DriftOptions options_;
  std::map<uint32_t, uint64_t> base_labels_, base_bins_;
  uint64_t base_n_ = 0;
  std::vector<Entry> ring_;  // the window, oldest overwritten first
  size_t next_ = 0;
  std::map<uint32_t, uint64_t> win_labels_, win_bins_;
  uint64_t results_ = 0, since_verdict_ = 0;
  Divergence last_label_, last_score_;
  bool alarm_[2] = {false, false};
  uint32_t streak_[2] = {0, 0};  // verdicts in a row that disagree with the alarm's current state
};

}  // namespace tinyedge::drift
