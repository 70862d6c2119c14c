#include "gateway/drift/input_drift.h"

#include <cmath>

#include "gateway/rollout/quality_gate.h"

namespace tinyedge::drift {

InputDriftDetector::InputDriftDetector(const DriftOptions& options) : options_(options) {
  options_.input_baseline = std::max<uint32_t>(options_.input_baseline, 2);
  options_.input_window = std::max<uint32_t>(options_.input_window, 2);
  options_.confirm = std::max<uint32_t>(options_.confirm, 1);
  for (auto& ring : ring_) ring.reserve(options_.input_window);
}

std::vector<InputChange> InputDriftDetector::add(const InputPeriod& period) {
  if (period.values == 0) return {};
  ++periods_;
  const double n = static_cast<double>(period.values);
  const double mean = static_cast<double>(period.sum) / n;
  const double stddev = std::sqrt(std::max(0.0, static_cast<double>(period.sum_squares) / n - mean * mean));
  const double stats[2] = {mean, stddev};
  if (base_n_ < options_.input_baseline) {
    for (int k = 0; k < 2; ++k) base_[k].add(stats[k]);
    ++base_n_;
    return {};
  }
  if (ring_[0].size() < options_.input_window) {
    for (int k = 0; k < 2; ++k) ring_[k].push_back(stats[k]);
  } else {
    for (int k = 0; k < 2; ++k) ring_[k][next_] = stats[k];
    next_ = (next_ + 1) % ring_[0].size();
  }
  const uint32_t every = std::max<uint32_t>(options_.input_window / 4, 1);
  if (ring_[0].size() < options_.input_window || ++since_verdict_ < every) return {};
  since_verdict_ = 0;
  judged_ = true;
  std::vector<InputChange> changes;
  for (int k = 0; k < 2; ++k) {
    last_[k] = judge(base_[k], ring_[k]);
    const bool over = last_[k].over();
    streak_[k] = over != alarm_[k] ? streak_[k] + 1 : 0;
    if (streak_[k] < options_.confirm) continue;
    alarm_[k] = over;
    streak_[k] = 0;
    changes.push_back({static_cast<InputStatistic>(k), over, last_[k]});
  }
  return changes;
}

InputShift InputDriftDetector::judge(const Moments& base, const std::vector<double>& window) const {
  Moments w;
  for (double x : window) w.add(x);
  InputShift s;
  s.baseline = base.mean();
  s.window = w.mean();
  s.shift = s.window - s.baseline;
  // Welch: the two averages' standard error from each sample's own spread of periods. z is the
  // normal quantile (two-sided), the square root of chi-square's with one degree of freedom.
  const double standard_error = std::sqrt(base.variance() / base.n + w.variance() / w.n);
  const double two_sided = 1 - (1 - options_.quantile) / 2;
  s.floor = std::sqrt(rollout::chi_square_quantile(1, two_sided)) * standard_error;
  s.bound = options_.max_input_shift + s.floor;
  return s;
}

void InputDriftDetector::rebaseline() {
  const uint64_t periods = periods_;
  *this = InputDriftDetector(options_);
  periods_ = periods;
}

InputBaseline InputDriftDetector::baseline() const {
  return {base_n_, base_[0].sum, base_[0].squares, base_[1].sum, base_[1].squares};
}

void InputDriftDetector::restore(const InputBaseline& baseline) {
  base_n_ = baseline.periods;
  const double n = static_cast<double>(baseline.periods);
  base_[0] = {n, baseline.mean_sum, baseline.mean_squares};
  base_[1] = {n, baseline.stddev_sum, baseline.stddev_squares};
  for (auto& ring : ring_) ring.clear();
  next_ = 0;
  since_verdict_ = 0;
}

InputReading InputDriftDetector::reading() const {
  InputReading r;
  r.periods = periods_;
  r.baseline_periods = base_n_;
  r.window_periods = ring_[0].size();
  r.judged = judged_;
  r.mean = last_[0];
  r.stddev = last_[1];
  for (size_t i = 0; i < ring_[0].size(); ++i) {
    const size_t at = (next_ + i) % ring_[0].size();
    r.window_means.push_back(ring_[0][at]);
    r.window_stddevs.push_back(ring_[1][at]);
  }
  return r;
}

}  // namespace tinyedge::drift
