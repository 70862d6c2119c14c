// Drift of the input itself, where nodes report it: each Telemetry carries the sums of its
// period's input tensors (count, sum, sum of squares of int8 values), from which a period's mean
// and standard deviation follow. A dirty lens or a noisy microphone moves these before the model's
// answers show it, and they do not depend on what the model makes of the input.
//
// Per watch, the first `input_baseline` periods are the baseline and the latest `input_window`
// the window. A verdict compares the window's mean of period means (and of period standard
// deviations) with the baseline's: the bound is `max_input_shift` int8 steps plus the difference
// two samples of these sizes from one distribution stay below with probability `quantile` (Welch's
// standard error of the two averages times the normal quantile, which is the square root of the
// quality gate's chi-square quantile with one degree of freedom). Alarms are raised and cleared
// after `confirm` verdicts in a row, as the result watch's are.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "gateway/drift/drift_options.h"

namespace tinyedge::drift {

struct InputPeriod {
  uint64_t values = 0;  // int8 values summed
  int64_t sum = 0;
  uint64_t sum_squares = 0;
};

// The shift of one statistic: window average minus baseline average (int8 steps), the noise floor
// and the bound (max_input_shift + floor) its magnitude is judged against.
struct InputShift {
  double baseline = 0, window = 0, shift = 0, floor = 0, bound = 0;
  bool over() const { return (shift < 0 ? -shift : shift) > bound; }
};

enum class InputStatistic : uint8_t { kMean, kStddev };

struct InputChange {
  InputStatistic statistic;
  bool raised;
  InputShift shift;
};

struct InputReading {
  uint64_t periods = 0, baseline_periods = 0, window_periods = 0;
  bool judged = false;  // a verdict was made (baseline and window full)
  InputShift mean, stddev;
  std::vector<double> window_means, window_stddevs;  // the window's periods, oldest first (the plot)
};

// What an input detector learnt before judging: the sums of the baseline periods' means and
// standard deviations and of their squares (kept in the store: drift_baseline_store.h).
struct InputBaseline {
  uint64_t periods = 0;
  double mean_sum = 0, mean_squares = 0, stddev_sum = 0, stddev_squares = 0;
};

class InputDriftDetector {
 public:
  explicit InputDriftDetector(const DriftOptions& options);

  // One telemetry period (values > 0; the gateway has checked the sums are real). Returns the
  // alarms raised or cleared by the verdict it completed.
  std::vector<InputChange> add(const InputPeriod& period);
  void rebaseline();

  InputBaseline baseline() const;
  bool learning() const { return base_n_ < options_.input_baseline; }
  // As DriftDetector::restore: the baseline learnt before, the window started again.
  void restore(const InputBaseline& baseline);

  InputReading reading() const;
  bool alarmed(InputStatistic s) const { return alarm_[static_cast<int>(s)]; }

 private:
  struct Moments {  // running sums of one statistic over periods
    double n = 0, sum = 0, squares = 0;
    void add(double x) { n += 1, sum += x, squares += x * x; }
    double mean() const { return n > 0 ? sum / n : 0; }
    double variance() const { return n > 1 ? std::max(0.0, (squares - sum * sum / n) / (n - 1)) : 0; }
  };
  InputShift judge(const Moments& base, const std::vector<double>& window) const;

  DriftOptions options_;
  Moments base_[2];
  uint64_t base_n_ = 0, periods_ = 0, since_verdict_ = 0;
  std::vector<double> ring_[2];  // the window's period means and standard deviations
  size_t next_ = 0;
  InputShift last_[2];
  bool judged_ = false;
  bool alarm_[2] = {false, false};
  uint32_t streak_[2] = {0, 0};
};

}  // namespace tinyedge::drift
