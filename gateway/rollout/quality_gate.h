// The model-quality gate: while a wave soaks, the inference results of nodes already on the new
// model are compared with those of nodes still on the old one. Both cohorts see the same kind of
// input, so a model that silently classifies worse shows up as a lower top-1 score, a different
// label mix, slower inference or more errors, even when it passed its self-test.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gateway/rollout/rollout_types.h"

namespace tinyedge::rollout {

// How sure the gate must be that a label shift is not sampling noise before it pauses a rollout.
inline constexpr double kJsdNoiseQuantile = 0.999;

// Results of one cohort. Plain counters plus a bounded latency window, so a long soak on a big
// fleet keeps memory flat.
class CohortStats {
 public:
  static constexpr size_t kLatencyWindow = 16384;

  static constexpr size_t kMaxSamplesTracked = 4096;

  // `sample_id` != 0 when the sensor replays a labelled data set: both cohorts then see the same
  // inputs, and their answers on the same sample can be compared one to one.
  void add_result(uint32_t label, uint32_t score_0_255, uint32_t latency_us, uint32_t sample_id = 0);
  void add_errors(uint64_t n);  // inferences that produced no result (crash, reboot, runtime error)

  uint64_t results() const { return results_; }
  uint64_t errors() const { return errors_; }
  double mean_score() const;    // 0..1
  double error_rate() const;    // errors / (results + errors)
  double p95_latency_us() const;
  const std::map<uint32_t, uint64_t>& label_counts() const { return labels_; }
  // Most frequent label per replayed sample id.
  std::map<uint32_t, uint32_t> majority_labels() const;

 private:
  uint64_t results_ = 0;
  uint64_t errors_ = 0;
  double score_sum_ = 0;
  std::map<uint32_t, uint64_t> labels_;
  std::map<uint32_t, std::map<uint32_t, uint32_t>> per_sample_;  // sample id -> label -> count
  std::vector<uint32_t> latencies_;  // ring of the last kLatencyWindow
  size_t latency_next_ = 0;
};

// Jensen-Shannon divergence of two label histograms in bits: 0 = same mix, 1 = disjoint.
double jensen_shannon_bits(const std::map<uint32_t, uint64_t>& p, const std::map<uint32_t, uint64_t>& q);
// Upper `quantile` of chi-square with `dof` degrees of freedom (Wilson-Hilferty; quantile in
// [0.5, 0.9999]).
double chi_square_quantile(double dof, double quantile);
// The JSD (bits) two samples of sizes n1 and n2 from the SAME distribution over `labels` labels
// stay below with probability `quantile`: label frequencies from finite samples always differ a
// little. For small differences 8 * N_eff * ln2 * JSD_bits is Pearson's two-sample chi-square
// statistic, ~ chi2(labels - 1), with N_eff = n1 * n2 / (n1 + n2); so the floor shrinks like
// (labels - 1) / N_eff. 0 when either sample is empty or there is one label.
double jsd_noise_floor_bits(uint64_t n1, uint64_t n2, size_t labels, double quantile = kJsdNoiseQuantile);
// Share of the sample ids both cohorts answered on which their majority labels differ; `shared`
// gets how many such sample ids there were.
double disagreement(const CohortStats& a, const CohortStats& b, uint64_t& shared);
// Nearest-rank percentile of `values` (copied; 0 when empty). q in [0, 1].
double percentile(std::vector<uint32_t> values, double q);

struct GateVerdict {
  enum class Outcome : uint8_t { kInsufficientData, kPass, kTripped };
  Outcome outcome = Outcome::kInsufficientData;
  std::string bound;    // which bound tripped: "disagreement", "label_jsd", "mean_score_drop", "error_rate_increase", "p95_latency_increase"
  std::string message;  // one line for the operator, with the measured values
  double mean_score_drop = 0, label_jsd = 0, p95_latency_increase = 0, error_rate_increase = 0;
  // The label JSD is judged against max_label_jsd + label_jsd_floor (the sampling noise of the
  // two cohorts' sizes): label_jsd_bound.
  double label_jsd_floor = 0, label_jsd_bound = 0;
  size_t labels_seen = 0;
  double disagreement = 0;
  uint64_t updated_samples = 0, baseline_samples = 0, shared_sample_ids = 0;
};
std::string_view to_string(GateVerdict::Outcome outcome);

GateVerdict evaluate_gate(const GateBounds& bounds, const CohortStats& updated, const CohortStats& baseline);

}  // namespace tinyedge::rollout
