// The drift detector on result streams drawn from known distributions: a stable stream raises
// nothing over a long run, a shifted label mix or a fall in confidence raises its alarm within a
// bounded number of results, the alarm clears when the stream returns, and a rebaseline accepts
// the new distribution.
#include "gateway/drift/drift_detector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <vector>

#include "gateway/drift/baseline_codec.h"
#include "gateway/drift/drift_monitor.h"
#include "gateway/drift/input_drift.h"
#include "gateway/store/backend.h"
#include "gateway/store/drift_baseline_store.h"

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

// --- baselines kept in the store (baseline_codec.h, drift_baseline_store.h) ------------------------

TEST(BaselineCodec, RoundTripsExactlyAndRefusesRowsNoWatchCouldHaveLearnt) {
  DriftDetector d(options());
  Stream s(kMix, 200, 31);
  feed(d, s, 5000);
  const ResultBaseline learnt = d.baseline();
  std::string error;
  const auto back = decode_result_baseline(encode(learnt), learnt.results, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->labels, learnt.labels);
  EXPECT_EQ(back->score_bins, learnt.score_bins);
  const InputBaseline inputs{60, -1234.5678901234567, 98765.4321, 1800.25 / 3, 54321.000001};
  const auto input_back = decode_input_baseline(encode(inputs), 60, error);
  ASSERT_TRUE(input_back) << error;
  EXPECT_EQ(input_back->mean_sum, inputs.mean_sum) << "a double did not round trip";
  EXPECT_EQ(input_back->stddev_sum, inputs.stddev_sum);

  const std::pair<std::string, std::string> bad[] = {
      {"not json", "not a JSON object"},
      {R"({"labels": []})", "lacks its labels or scores"},
      {R"({"labels": [[1, 5000]], "scores": [5000]})", "1 score bins, not 16"},
      {R"({"labels": [[1, 4000]], "scores": [5000,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]})", "counts 4000 labels"},
      {R"({"labels": [[1, 2500], [1, 2500]], "scores": [5000,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]})", "twice"},
      {R"({"labels": [[-1, 5000]], "scores": [5000,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]})", "not [label, results > 0]"},
  };
  for (const auto& [text, why] : bad) {
    error.clear();
    EXPECT_FALSE(decode_result_baseline(text, 5000, error)) << text;
    EXPECT_NE(error.find(why), std::string::npos) << text << ": " << error;
  }
  error.clear();
  EXPECT_FALSE(decode_input_baseline(R"({"mean": [0, 1], "stddev": [-3, 1]})", 60, error));
  EXPECT_NE(error.find("stddev sums are not those of 60 int8 periods"), std::string::npos) << error;
  EXPECT_FALSE(decode_input_baseline(R"({"mean": [1e9, 1], "stddev": [3, 1]})", 60, error)) << "a mean beyond int8";
}

// A gateway restarted after its baselines formed: the watch comes back with them, so a group whose
// inputs have shifted in the meantime raises its alarms, where a watch learning its baseline again
// would take the shifted input as normal. Real SQLite store, the watch polled by hand.
class DriftRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("drift-restart-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    store_options_.path = (dir_ / "gw.db").string();
    store_options_.batch_linger_ms = 0;
    log_.set_sink([](gateway::LogLevel, const std::string&) {});
    store_ = gateway::open_store(store_options_, metrics_, log_);
    store_->start([](std::vector<gateway::AckNotice>) {});
    store_->submit(gateway::GroupsItem{"cam-1", {"cams"}});
    store_->flush();
  }
  void TearDown() override {
    store_->stop();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<DriftMonitor> start_watch() {
    DriftOptions o;
    o.baseline = 600, o.window = 300, o.evaluate_every = 75, o.confirm = 2;
    o.input_baseline = 30, o.input_window = 12;
    auto monitor = std::make_unique<DriftMonitor>(
        o, [this] { return gateway::open_query(store_options_); }, log_,
        [this] { return gateway::open_drift_baseline_store(store_options_); });
    monitor->poll();  // starts at the newest stored result
    return monitor;
  }
  // n results of `stream` from cam-1 (model 7 v3), stored and then read by the watch.
  void send(DriftMonitor& monitor, Stream& stream, uint32_t n) {
    gateway::ResultsItem item{"cam-1", boot_, seq_, 7, 3, gateway::now_ms(), "mqtt", {}};
    for (uint32_t i = 0; i < n; ++i) {
      auto [label, score] = stream.next();
      item.results.push_back({label, score, 1000, 0, seq_++, {}});
    }
    store_->submit(std::move(item));
    store_->flush();
    monitor.poll();
  }
  std::vector<DriftAlert> active(DriftMonitor& monitor) {
    std::vector<DriftAlert> out;
    for (const auto& a : monitor.alerts())
      if (a.cleared_ms == 0) out.push_back(a);
    return out;
  }

  std::filesystem::path dir_;
  gateway::StoreOptions store_options_;
  gateway::Metrics metrics_;
  gateway::Logger log_;
  std::unique_ptr<gateway::Store> store_;
  uint32_t boot_ = 1, seq_ = 1;
};

TEST_F(DriftRestart, AWatchRestartedAfterItsBaselineFormedRaisesTheAlarmForShiftedInput) {
  Stream clean(kMix, 200, 41);
  Periods clean_input(-20, 30, 42);
  {
    auto watch = start_watch();
    // The node's row (made by its groups) names no model yet: its input cannot be filed.
    watch->add_input("cam-1", clean_input.next());
    watch->poll();
    ASSERT_TRUE(watch->watches().empty()) << "an input period filed under the model of a row made before the Hello: "
                                          << to_string(watch->watches().front().key);
    for (int i = 0; i < 10; ++i) send(*watch, clean, 100);
    for (int i = 0; i < 40; ++i) watch->add_input("cam-1", clean_input.next());
    watch->poll();
    ASSERT_EQ(watch->watches().size(), 1u);
    const DriftWatch w = watch->watches().front();
    ASSERT_EQ(w.reading.baseline_results, 600u);
    ASSERT_EQ(w.input.baseline_periods, 30u);
    ASSERT_TRUE(active(*watch).empty()) << "an alarm on the clean stream";
  }  // the gateway stops

  // While it was down the camera turned noisy and its answers moved.
  std::vector<double> shifted = kMix;
  std::swap(shifted[0], shifted[5]);
  Stream noisy(shifted, 170, 43);
  Periods noisy_input(-20, 50, 44);
  boot_ = 2, seq_ = 1;
  auto watch = start_watch();
  const auto restored = watch->watches();
  EXPECT_EQ(restored.size(), 1u) << "the stored watch did not come back";
  if (!restored.empty()) {
    EXPECT_EQ(restored.front().reading.baseline_results, 600u);
    EXPECT_EQ(restored.front().input.baseline_periods, 30u);
    EXPECT_EQ(restored.front().key.group, "cams");
  }
  for (int i = 0; i < 6; ++i) send(*watch, noisy, 100);
  for (int i = 0; i < 30; ++i) watch->add_input("cam-1", noisy_input.next());
  watch->poll();
  bool results_alarm = false, input_alarm = false;
  for (const auto& a : active(*watch)) {
    results_alarm |= a.kind == DriftKind::kLabelMix || a.kind == DriftKind::kScore;
    input_alarm |= a.kind == DriftKind::kInputStddev;
  }
  const DriftWatch w = watch->watches().front();
  EXPECT_TRUE(results_alarm) << "no alarm on 600 shifted results; baseline learnt from " << w.reading.baseline_results
                             << " results, window " << w.reading.window_results;
  EXPECT_TRUE(input_alarm) << "no input alarm on 30 noisy periods; input baseline from " << w.input.baseline_periods
                           << " periods, stddev " << w.input.stddev.baseline << " -> " << w.input.stddev.window;

  // The operator accepts the new input: the stored baseline goes too, and a restart learns again.
  ASSERT_TRUE(watch->rebaseline(w.key, gateway::now_ms()));
  watch->poll();
  watch.reset();
  watch = start_watch();
  EXPECT_TRUE(watch->watches().empty()) << "a rebaselined watch came back with its old baseline";
}

}  // namespace
}  // namespace tinyedge::drift
