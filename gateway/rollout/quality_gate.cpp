#include "gateway/rollout/quality_gate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace tinyedge::rollout {

void CohortStats::add_result(uint32_t label, uint32_t score, uint32_t latency_us, uint32_t sample_id) {
  ++results_;
  if (sample_id != 0) {
    auto it = per_sample_.find(sample_id);
    if (it != per_sample_.end()) {
      ++it->second[label];
    } else if (per_sample_.size() < kMaxSamplesTracked) {
      per_sample_[sample_id][label] = 1;
    }
  }
  score_sum_ += std::min<uint32_t>(score, 255) / 255.0;
  ++labels_[label];
  if (latencies_.size() < kLatencyWindow) {
    latencies_.push_back(latency_us);
  } else {
    latencies_[latency_next_] = latency_us;
    latency_next_ = (latency_next_ + 1) % kLatencyWindow;
  }
}

void CohortStats::add_errors(uint64_t n) { errors_ += n; }

double CohortStats::mean_score() const { return results_ ? score_sum_ / static_cast<double>(results_) : 0; }

double CohortStats::error_rate() const {
  uint64_t total = results_ + errors_;
  return total ? static_cast<double>(errors_) / static_cast<double>(total) : 0;
}

std::map<uint32_t, uint32_t> CohortStats::majority_labels() const {
  std::map<uint32_t, uint32_t> out;
  for (const auto& [sample, labels] : per_sample_) {
    uint32_t best = 0, best_count = 0;
    for (const auto& [label, count] : labels) {
      if (count > best_count) best = label, best_count = count;
    }
    out[sample] = best;
  }
  return out;
}

double disagreement(const CohortStats& a, const CohortStats& b, uint64_t& shared) {
  auto la = a.majority_labels();
  auto lb = b.majority_labels();
  shared = 0;
  uint64_t differ = 0;
  for (const auto& [sample, label] : la) {
    auto it = lb.find(sample);
    if (it == lb.end()) continue;
    ++shared;
    differ += it->second != label ? 1 : 0;
  }
  return shared ? static_cast<double>(differ) / static_cast<double>(shared) : 0.0;
}

double CohortStats::p95_latency_us() const { return percentile(latencies_, 0.95); }

double percentile(std::vector<uint32_t> values, double q) {
  if (values.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  rank = std::clamp<size_t>(rank, 1, values.size()) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(rank), values.end());
  return values[rank];
}

double jensen_shannon_bits(const std::map<uint32_t, uint64_t>& p, const std::map<uint32_t, uint64_t>& q) {
  double np = 0, nq = 0;
  for (const auto& [label, n] : p) np += static_cast<double>(n);
  for (const auto& [label, n] : q) nq += static_cast<double>(n);
  if (np == 0 || nq == 0) return 0;
  // Walk the union of labels once; a label missing from one side contributes with probability 0.
  auto term = [](double a, double m) { return a > 0 ? a * std::log2(a / m) : 0.0; };
  double divergence = 0;
  auto ip = p.begin();
  auto iq = q.begin();
  while (ip != p.end() || iq != q.end()) {
    double a = 0, b = 0;
    if (iq == q.end() || (ip != p.end() && ip->first < iq->first)) {
      a = static_cast<double>(ip++->second) / np;
    } else if (ip == p.end() || iq->first < ip->first) {
      b = static_cast<double>(iq++->second) / nq;
    } else {
      a = static_cast<double>(ip++->second) / np;
      b = static_cast<double>(iq++->second) / nq;
    }
    double m = (a + b) / 2;
    divergence += 0.5 * term(a, m) + 0.5 * term(b, m);
  }
  return std::clamp(divergence, 0.0, 1.0);
}

double chi_square_quantile(double dof, double quantile) {
  if (dof <= 0) return 0;
  // Standard normal quantile by bisection on erfc: the gate needs a handful per verdict.
  double q = std::clamp(quantile, 0.5, 0.9999);
  double lo = 0, hi = 8;
  for (int i = 0; i < 60; ++i) {
    double mid = (lo + hi) / 2;
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < q ? lo : hi) = mid;
  }
  double z = (lo + hi) / 2;
  // Wilson-Hilferty: (X/k)^(1/3) is close to normal with mean 1 - 2/(9k) and variance 2/(9k).
  double v = 2.0 / (9.0 * dof);
  double cube = 1.0 - v + z * std::sqrt(v);
  return dof * cube * cube * cube;
}

double jsd_noise_floor_bits(uint64_t n1, uint64_t n2, size_t labels, double quantile) {
  if (n1 == 0 || n2 == 0 || labels < 2) return 0;
  double n_eff = static_cast<double>(n1) * static_cast<double>(n2) / static_cast<double>(n1 + n2);
  return chi_square_quantile(static_cast<double>(labels - 1), quantile) / (8.0 * n_eff * std::log(2.0));
}

std::string_view to_string(GateVerdict::Outcome outcome) {
  switch (outcome) {
    case GateVerdict::Outcome::kInsufficientData: return "insufficient_data";
    case GateVerdict::Outcome::kPass: return "pass";
    case GateVerdict::Outcome::kTripped: return "tripped";
  }
  return "?";
}

GateVerdict evaluate_gate(const GateBounds& bounds, const CohortStats& updated, const CohortStats& baseline) {
  GateVerdict v;
  v.updated_samples = updated.results() + updated.errors();
  v.baseline_samples = baseline.results() + baseline.errors();
  v.mean_score_drop = baseline.mean_score() - updated.mean_score();
  v.label_jsd = jensen_shannon_bits(updated.label_counts(), baseline.label_counts());
  {
    std::map<uint32_t, uint64_t> all = updated.label_counts();
    for (const auto& [label, n] : baseline.label_counts()) all[label] += n;
    v.labels_seen = all.size();
  }
  v.label_jsd_floor = jsd_noise_floor_bits(updated.results(), baseline.results(), v.labels_seen);
  v.label_jsd_bound = bounds.max_label_jsd > 0 ? bounds.max_label_jsd + v.label_jsd_floor : 0;
  double p95_old = baseline.p95_latency_us();
  double p95_new = updated.p95_latency_us();
  v.p95_latency_increase = p95_old > 0 ? p95_new / p95_old - 1.0 : 0.0;
  v.error_rate_increase = updated.error_rate() - baseline.error_rate();
  v.disagreement = disagreement(updated, baseline, v.shared_sample_ids);
  bool judge_agreement = v.shared_sample_ids >= std::max<uint32_t>(bounds.min_shared_samples, 1);

  char text[256];
  if (!bounds.enabled) {
    v.outcome = GateVerdict::Outcome::kPass;
    v.message = "quality gate off";
    return v;
  }
  if (v.updated_samples < bounds.min_samples || v.baseline_samples < bounds.min_samples) {
    std::snprintf(text, sizeof text, "quality gate: not enough telemetry yet (updated %llu, baseline %llu, need %u each)",
                  static_cast<unsigned long long>(v.updated_samples),
                  static_cast<unsigned long long>(v.baseline_samples), bounds.min_samples);
    v.message = text;
    return v;
  }
  // The first bound that trips is named; order: the most direct signs of a worse model first.
  struct Check {
    const char* name;
    double value, bound;
    const char* what;
  };
  const Check checks[] = {
      {"disagreement", judge_agreement ? v.disagreement : 0.0, bounds.max_disagreement,
       "new model disagrees with the old one on %.0f%% of the same samples > %.0f%%"},
      {"label_jsd", v.label_jsd, v.label_jsd_bound, "label distribution diverged: JSD %.3f bits > bound %.3f"},
      {"mean_score_drop", v.mean_score_drop, bounds.max_mean_score_drop, "mean top-1 score dropped by %.3f > %.3f"},
      {"error_rate_increase", v.error_rate_increase, bounds.max_error_rate_increase,
       "error rate rose by %.3f > %.3f"},
      {"p95_latency_increase", v.p95_latency_increase, bounds.max_p95_latency_increase,
       "p95 latency rose by %.2fx > %.2fx"},
  };
  for (const Check& c : checks) {
    if (c.bound > 0 && c.value > c.bound) {
      bool percent = std::string_view(c.name) == "disagreement";
      v.outcome = GateVerdict::Outcome::kTripped;
      v.bound = c.name;
      int n = std::snprintf(text, sizeof text, "quality gate (%s): ", c.name);
      std::snprintf(text + n, sizeof text - static_cast<size_t>(n), c.what, percent ? c.value * 100 : c.value,
                    percent ? c.bound * 100 : c.bound);
      v.message = text;
      if (v.bound == "label_jsd") {
        std::snprintf(text, sizeof text, " (configured %.3f + noise floor %.3f for %zu labels at %.1f%%)",
                      bounds.max_label_jsd, v.label_jsd_floor, v.labels_seen, kJsdNoiseQuantile * 100);
        v.message += text;
      }
      std::snprintf(text, sizeof text, " (updated %llu vs baseline %llu samples)",
                    static_cast<unsigned long long>(v.updated_samples),
                    static_cast<unsigned long long>(v.baseline_samples));
      v.message += text;
      return v;
    }
  }
  v.outcome = GateVerdict::Outcome::kPass;
  std::snprintf(text, sizeof text,
                "quality gate: pass (score drop %.3f, JSD %.3f of bound %.3f, p95 latency %+.2fx, error rate %+.3f, disagreement %.0f%% "
                "on %llu samples)",
                v.mean_score_drop, v.label_jsd, v.label_jsd_bound, v.p95_latency_increase, v.error_rate_increase, v.disagreement * 100,
                static_cast<unsigned long long>(v.shared_sample_ids));
  v.message = text;
  return v;
}

}  // namespace tinyedge::rollout
