// The drift detector on result streams drawn from known distributions: a stable stream raises
// nothing over a long run, a shifted label mix or a fall in confidence raises its alarm within a
// bounded number of results, the alarm clears when the stream returns, and a rebaseline accepts
// the new distribution.
#include "gateway/drift/drift_detector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gateway/drift/input_drift.h"

namespace tinyedge::drift {
namespace {

// A model's output stream: labels with fixed shares, top-1 scores around `mean_score`.
class Stream {
 public:
  Stream(std::vector<double> shares, double mean_score, uint32_t seed)
      : labels_(shares.begin(), shares.end()), score_(mean_score, 18.0), rng_(seed) {}
  std::pair<uint32_t, uint32_t> next() {
    const uint32_t label = static_cast<uint32_t>(labels_(rng_));
    const double s = std::clamp(score_(rng_), 0.0, 255.0);
    return {label, static_cast<uint32_t>(s)};
  }

 private:
  std::discrete_distribution<int> labels_;
  std::normal_distribution<double> score_;
  std::mt19937 rng_;
};

const std::vector<double> kMix = {30, 20, 12, 10, 8, 6, 5, 3, 2, 2, 1, 1};  // 12 classes, skewed

struct Changes {
  std::vector<DriftChange> changes;
  std::vector<uint64_t> at;  // result number of each change
};

Changes feed(DriftDetector& d, Stream& s, uint64_t n, uint64_t offset = 0) {
  Changes run;
  for (uint64_t i = 0; i < n; ++i) {
    auto [label, score] = s.next();
    for (const auto& c : d.add(label, score)) {
      run.changes.push_back(c);
      run.at.push_back(offset + i + 1);
    }
  }
  return run;
}

DriftOptions options() {
  DriftOptions o;
  o.baseline = 5000;
  o.window = 1000;
  return o;
}

TEST(DriftDetector, LearnsFirstAndJudgesNothingBeforeTheBaselineAndOneWindowAreFull) {
  DriftDetector d(options());
  Stream s(kMix, 200, 1);
  feed(d, s, 5999);
  EXPECT_EQ(d.reading().state, DriftReading::State::kLearning);
  EXPECT_EQ(d.reading().baseline_results, 5000u);
  EXPECT_EQ(d.reading().window_results, 999u);
  feed(d, s, 1);
  EXPECT_EQ(d.reading().state, DriftReading::State::kSteady);
}

TEST(DriftDetector, AStableStreamRaisesNoAlarmOverAMillionResults) {
  DriftDetector d(options());
  Stream s(kMix, 200, 2);
  const Changes run = feed(d, s, 1'000'000);
  EXPECT_TRUE(run.changes.empty()) << "first alarm at result " << run.at.front() << ": "
                                   << to_string(run.changes.front().kind) << " " << run.changes.front().divergence.jsd
                                   << " bits over " << run.changes.front().divergence.bound;
  EXPECT_EQ(d.reading().state, DriftReading::State::kSteady);
}

TEST(DriftDetector, SmallWindowsAreJudgedAgainstTheirSamplingNoiseNotATightBoundAlone) {
  // 200 results of 12 classes differ from the baseline by ~0.01 bits by chance alone: a bound of
  // 0.005 bits without the noise floor would ring all the time.
  DriftOptions o = options();
  o.window = 200;
  o.max_label_jsd = o.max_score_jsd = 0.005;
  DriftDetector d(o);
  Stream s(kMix, 200, 3);
  const Changes run = feed(d, s, 200'000);
  EXPECT_TRUE(run.changes.empty()) << "alarm at result " << run.at.front() << " with noise floor "
                                   << run.changes.front().divergence.floor;
  EXPECT_GT(d.reading().label.floor, 0.02) << "the floor of a 200-result window should dominate the 0.005 bound";
}

TEST(DriftDetector, AShiftedLabelMixIsRaisedWithinOneWindowAndClearedWhenItReturns) {
  DriftOptions o = options();
  DriftDetector d(o);
  Stream stable(kMix, 200, 4);
  feed(d, stable, 20'000);
  // Two thirds of what was class 0 now looks like class 3 (a dirty lens blurs one kind into
  // another): 0.07 bits between the two mixes, against a bound of 0.028 for these sample sizes.
  std::vector<double> shifted = kMix;
  shifted[3] += 20;
  shifted[0] -= 20;
  Stream drifted(shifted, 200, 5);
  const Changes run = feed(d, drifted, 5'000, 20'000);
  ASSERT_FALSE(run.changes.empty()) << "no alarm in 5000 shifted results; last JSD " << d.reading().label.jsd
                                    << " bound " << d.reading().label.bound;
  EXPECT_EQ(run.changes.front().kind, DriftKind::kLabelMix);
  EXPECT_TRUE(run.changes.front().raised);
  // Within one window plus `confirm` verdicts of the shift: the stated detection delay.
  const uint64_t delay = run.at.front() - 20'000;
  EXPECT_LE(delay, o.window + o.confirm * (o.window / 4)) << "raised after " << delay << " shifted results";
  EXPECT_TRUE(d.alarmed(DriftKind::kLabelMix));
  EXPECT_FALSE(d.alarmed(DriftKind::kScore)) << "scores did not move";
  EXPECT_EQ(d.reading().state, DriftReading::State::kDrifting);

  Stream back(kMix, 200, 6);
  const Changes cleared = feed(d, back, 3'000, 25'000);
  ASSERT_FALSE(cleared.changes.empty()) << "alarm not cleared after the stream returned";
  EXPECT_FALSE(cleared.changes.back().raised);
  EXPECT_FALSE(d.alarmed(DriftKind::kLabelMix));
}

TEST(DriftDetector, AModelLosingConfidenceIsRaisedOnTheScoreAloneWhenTheLabelMixHolds) {
  DriftDetector d(options());
  Stream stable(kMix, 200, 7);
  feed(d, stable, 10'000);
  Stream unsure(kMix, 150, 8);  // same answers, top-1 probability 0.78 -> 0.59
  const Changes run = feed(d, unsure, 3'000, 10'000);
  ASSERT_FALSE(run.changes.empty()) << "no score alarm; last score JSD " << d.reading().score.jsd;
  EXPECT_EQ(run.changes.front().kind, DriftKind::kScore);
  EXPECT_FALSE(d.alarmed(DriftKind::kLabelMix));
}

TEST(DriftDetector, RebaselineAcceptsTheNewDistributionAndClearsTheAlarm) {
  DriftDetector d(options());
  Stream stable(kMix, 200, 9);
  feed(d, stable, 8'000);
  std::vector<double> shifted = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
  Stream drifted(shifted, 200, 10);
  feed(d, drifted, 3'000);
  ASSERT_TRUE(d.alarmed(DriftKind::kLabelMix));
  d.rebaseline();
  EXPECT_FALSE(d.alarmed(DriftKind::kLabelMix));
  EXPECT_EQ(d.reading().state, DriftReading::State::kLearning);
  const Changes run = feed(d, drifted, 50'000);
  EXPECT_TRUE(run.changes.empty()) << "the accepted distribution raised an alarm at result " << run.at.front();
}

TEST(DriftDetector, LabelNumbersNoModelHasCannotGrowItsMemory) {
  DriftDetector d(options());
  for (uint32_t i = 0; i < 100'000; ++i) (void)d.add(i * 7919u, 200);
  const DriftReading r = d.reading();
  EXPECT_LE(r.baseline_labels.size(), DriftDetector::kMaxLabels + 1);
  EXPECT_LE(r.window_labels.size(), DriftDetector::kMaxLabels + 1);
  EXPECT_EQ(r.baseline_scores.size(), kScoreBins);
}

// --- input statistics (input_drift.h) ------------------------------------------------------------

// Telemetry periods of a camera: each period's input mean and standard deviation vary around the
// scene's (which inputs the period happened to see), written as the integer sums a node sends.
class Periods {
 public:
  Periods(double mean, double stddev, uint32_t seed) : mean_(mean, 1.5), stddev_(stddev, 1.0), rng_(seed) {}
  InputPeriod next() {
    constexpr uint64_t kValues = 8 * 490;  // eight inferences of the keyword model's input
    const double m = std::clamp(mean_(rng_), -127.0, 127.0), s = std::max(0.0, stddev_(rng_));
    return {kValues, static_cast<int64_t>(std::llround(m * kValues)),
            static_cast<uint64_t>(std::llround((s * s + m * m) * kValues))};
  }

 private:
  std::normal_distribution<double> mean_, stddev_;
  std::mt19937 rng_;
};

DriftOptions input_options() {
  DriftOptions o;
  o.input_baseline = 60;
  o.input_window = 20;  // a verdict every 5 periods
  o.confirm = 2;
  return o;
}

// Periods until the first alarm of `statistic` (0: none in `n`).
uint64_t first_alarm(InputDriftDetector& d, Periods& p, uint64_t n, InputStatistic statistic) {
  for (uint64_t i = 1; i <= n; ++i)
    for (const auto& c : d.add(p.next()))
      if (c.raised && c.statistic == statistic) return i;
  return 0;
}

TEST(InputDrift, AStableInputRaisesNothingOverAHundredThousandPeriods) {
  InputDriftDetector d(input_options());
  Periods p(-20, 30, 7);
  for (int i = 0; i < 100000; ++i) {
    for (const auto& c : d.add(p.next()))
      FAIL() << "alarm at period " << i << ": shift " << c.shift.shift << " over bound " << c.shift.bound;
  }
  const InputReading r = d.reading();
  EXPECT_TRUE(r.judged);
  EXPECT_EQ(r.window_periods, 20u);
  EXPECT_NEAR(r.stddev.baseline, 30, 1.0);
  EXPECT_GT(r.stddev.floor, 0) << "the bound ignores the periods' own spread";
}

TEST(InputDrift, NoiseOnTheLensRaisesTheSpreadAlarmAndAMovedSceneTheMeanWithinAWindowAndTwoVerdicts) {
  const uint64_t limit = 20 + 2 * 5;  // one window, then `confirm` verdicts of 5 periods
  {
    InputDriftDetector d(input_options());
    Periods clean(-20, 30, 11), noisy(-20, 50, 12);  // sigma 40 of noise: sqrt(30^2 + 40^2)
    ASSERT_EQ(first_alarm(d, clean, 200, InputStatistic::kStddev), 0u);
    const uint64_t after = first_alarm(d, noisy, 200, InputStatistic::kStddev);
    EXPECT_GE(after, 1u) << "no alarm on a noisy input";
    EXPECT_LE(after, limit);
    EXPECT_FALSE(d.alarmed(InputStatistic::kMean)) << "noise of mean 0 moved the mean alarm";
    // Back to clean: cleared; then the operator accepts a changed scene as normal.
    for (int i = 0; i < 200; ++i) (void)d.add(clean.next());
    EXPECT_FALSE(d.alarmed(InputStatistic::kStddev));
  }
  {
    InputDriftDetector d(input_options());
    Periods clean(-20, 30, 21), brighter(-12, 30, 22);
    ASSERT_EQ(first_alarm(d, clean, 200, InputStatistic::kMean), 0u);
    const uint64_t after = first_alarm(d, brighter, 200, InputStatistic::kMean);
    EXPECT_GE(after, 1u) << "no alarm on a moved mean";
    EXPECT_LE(after, limit);
    d.rebaseline();
    EXPECT_FALSE(d.alarmed(InputStatistic::kMean));
    EXPECT_EQ(first_alarm(d, brighter, 1000, InputStatistic::kMean), 0u) << "the accepted input raised again";
  }
}

}  // namespace
}  // namespace tinyedge::drift
