#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "gateway/rollout/quality_gate.h"

namespace tinyedge::rollout {
namespace {

// A cohort classifying `n` samples drawn from a 10-class mix; `permute` maps the true class to
// the reported one, `score` and `latency` are the typical values.
CohortStats cohort(uint32_t n, uint32_t seed, uint32_t (*permute)(uint32_t), uint32_t score, uint32_t latency) {
  std::mt19937 rng(seed);
  std::discrete_distribution<uint32_t> classes({30, 20, 10, 10, 8, 7, 5, 4, 3, 3});
  std::normal_distribution<double> jitter(0, 8);
  CohortStats stats;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t label = permute(classes(rng));
    double s = std::clamp(score + jitter(rng), 0.0, 255.0);
    double l = std::max(1.0, latency * (1 + jitter(rng) / 100));
    stats.add_result(label, static_cast<uint32_t>(s), static_cast<uint32_t>(l));
  }
  return stats;
}
// `n` results drawn from the label mix `weights`, all with the same score and latency.
CohortStats mix(const std::vector<double>& weights, uint32_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::discrete_distribution<uint32_t> classes(weights.begin(), weights.end());
  CohortStats stats;
  for (uint32_t i = 0; i < n; ++i) stats.add_result(classes(rng), 200, 5000);
  return stats;
}
// Only the label bound judges.
GateBounds label_bound_only(double max_jsd) {
  GateBounds b;
  b.min_samples = 20;
  b.max_mean_score_drop = b.max_p95_latency_increase = b.max_error_rate_increase = b.max_disagreement = 0;
  b.max_label_jsd = max_jsd;
  return b;
}
const std::vector<double> kFactoryMix{30, 20, 10, 10, 8, 7, 5, 4, 3, 3};

uint32_t same(uint32_t c) { return c; }
uint32_t rotate(uint32_t c) { return (c + 3) % 10; }

TEST(QualityGate, JensenShannonKnownValues) {
  std::map<uint32_t, uint64_t> a{{0, 10}, {1, 10}};
  std::map<uint32_t, uint64_t> b{{2, 5}, {3, 5}};
  EXPECT_NEAR(jensen_shannon_bits(a, a), 0.0, 1e-12);
  EXPECT_NEAR(jensen_shannon_bits(a, b), 1.0, 1e-12);  // disjoint supports
  // p = (1, 0), q = (1/2, 1/2): JSD = 0.5*KL(p||m) + 0.5*KL(q||m), m = (3/4, 1/4).
  std::map<uint32_t, uint64_t> p{{0, 4}};
  std::map<uint32_t, uint64_t> q{{0, 2}, {1, 2}};
  double expected = 0.5 * std::log2(1 / 0.75) + 0.5 * (0.5 * std::log2(0.5 / 0.75) + 0.5 * std::log2(0.5 / 0.25));
  EXPECT_NEAR(jensen_shannon_bits(p, q), expected, 1e-12);
  EXPECT_NEAR(jensen_shannon_bits(p, q), jensen_shannon_bits(q, p), 1e-12);
  EXPECT_EQ(jensen_shannon_bits({}, q), 0.0);
}

TEST(QualityGate, PercentileIsNearestRank) {
  std::vector<uint32_t> v;
  for (uint32_t i = 1; i <= 100; ++i) v.push_back(101 - i);
  EXPECT_EQ(percentile(v, 0.95), 95);
  EXPECT_EQ(percentile(v, 1.0), 100);
  EXPECT_EQ(percentile(v, 0.0), 1);
  EXPECT_EQ(percentile({}, 0.95), 0);
}

TEST(QualityGate, SameModelOnBothSidesPasses) {
  GateBounds bounds;
  auto verdict = evaluate_gate(bounds, cohort(400, 1, same, 200, 5000), cohort(2000, 2, same, 200, 5000));
  EXPECT_EQ(verdict.outcome, GateVerdict::Outcome::kPass) << verdict.message;
  EXPECT_LT(verdict.label_jsd, 0.02);
}

TEST(QualityGate, PermutedClassesTripTheLabelBound) {
  GateBounds bounds;
  // Same confidence, same speed: only the label mix gives it away.
  auto verdict = evaluate_gate(bounds, cohort(400, 3, rotate, 200, 5000), cohort(2000, 4, same, 200, 5000));
  ASSERT_EQ(verdict.outcome, GateVerdict::Outcome::kTripped) << verdict.message;
  EXPECT_EQ(verdict.bound, "label_jsd");
  EXPECT_NE(verdict.message.find("label distribution"), std::string::npos) << verdict.message;
}

TEST(QualityGate, LowerConfidenceTripsTheScoreBound) {
  GateBounds bounds;
  auto verdict = evaluate_gate(bounds, cohort(400, 5, same, 140, 5000), cohort(2000, 6, same, 200, 5000));
  ASSERT_EQ(verdict.outcome, GateVerdict::Outcome::kTripped) << verdict.message;
  EXPECT_EQ(verdict.bound, "mean_score_drop");
  EXPECT_NEAR(verdict.mean_score_drop, 60 / 255.0, 0.02);
}

TEST(QualityGate, SlowerModelTripsTheLatencyBound) {
  GateBounds bounds;
  auto verdict = evaluate_gate(bounds, cohort(400, 7, same, 200, 9000), cohort(2000, 8, same, 200, 5000));
  ASSERT_EQ(verdict.outcome, GateVerdict::Outcome::kTripped) << verdict.message;
  EXPECT_EQ(verdict.bound, "p95_latency_increase");
  // A bound switched off (0) is not judged.
  bounds.max_p95_latency_increase = 0;
  EXPECT_EQ(evaluate_gate(bounds, cohort(400, 7, same, 200, 9000), cohort(2000, 8, same, 200, 5000)).outcome,
            GateVerdict::Outcome::kPass);
}

TEST(QualityGate, ErrorsTripTheErrorBound) {
  GateBounds bounds;
  CohortStats updated = cohort(400, 9, same, 200, 5000);
  updated.add_errors(40);
  auto verdict = evaluate_gate(bounds, updated, cohort(2000, 10, same, 200, 5000));
  ASSERT_EQ(verdict.outcome, GateVerdict::Outcome::kTripped) << verdict.message;
  EXPECT_EQ(verdict.bound, "error_rate_increase");
  EXPECT_NEAR(verdict.error_rate_increase, 40.0 / 440, 1e-9);
}

TEST(QualityGate, PermutedClassesOnABalancedReplayAreCaughtByDisagreement) {
  // A balanced data set replayed by sample id: a class permutation keeps the label mix, the
  // scores and the latency identical; only answering differently on the same sample shows it.
  CohortStats updated, baseline;
  for (uint32_t round = 0; round < 3; ++round) {
    for (uint32_t sample = 1; sample <= 200; ++sample) {
      uint32_t truth = sample % 10;
      baseline.add_result(truth, 210, 4000, sample);
      if (round == 0) updated.add_result((truth + 1) % 10, 210, 4000, sample);
    }
  }
  GateBounds bounds;
  auto verdict = evaluate_gate(bounds, updated, baseline);
  EXPECT_NEAR(verdict.label_jsd, 0.0, 1e-9);
  ASSERT_EQ(verdict.outcome, GateVerdict::Outcome::kTripped) << verdict.message;
  EXPECT_EQ(verdict.bound, "disagreement");
  EXPECT_EQ(verdict.shared_sample_ids, 200u);
  EXPECT_DOUBLE_EQ(verdict.disagreement, 1.0);
  // The same model on both sides agrees on every sample.
  CohortStats same_model;
  for (uint32_t sample = 1; sample <= 200; ++sample) same_model.add_result(sample % 10, 210, 4000, sample);
  auto ok = evaluate_gate(bounds, same_model, baseline);
  EXPECT_EQ(ok.outcome, GateVerdict::Outcome::kPass) << ok.message;
  EXPECT_DOUBLE_EQ(ok.disagreement, 0.0);
}

TEST(QualityGate, ChiSquareQuantilesMatchTheTables) {
  EXPECT_NEAR(chi_square_quantile(9, 0.999), 27.877, 0.3);
  EXPECT_NEAR(chi_square_quantile(11, 0.999), 31.264, 0.3);
  EXPECT_NEAR(chi_square_quantile(5, 0.99), 15.086, 0.15);
  EXPECT_NEAR(chi_square_quantile(1, 0.999), 10.828, 0.6);  // Wilson-Hilferty is loosest at 1 dof
  EXPECT_EQ(chi_square_quantile(0, 0.999), 0.0);
}

TEST(QualityGate, JsdNoiseFloorShrinksWithSampleSizeAndGrowsWithLabels) {
  EXPECT_EQ(jsd_noise_floor_bits(0, 100, 10), 0.0);
  EXPECT_EQ(jsd_noise_floor_bits(100, 100, 1), 0.0);
  // N_eff = 50 vs 500: ten times the samples, a tenth of the floor.
  EXPECT_NEAR(jsd_noise_floor_bits(100, 100, 10) / jsd_noise_floor_bits(1000, 1000, 10), 10.0, 1e-9);
  EXPECT_GT(jsd_noise_floor_bits(100, 100, 12), jsd_noise_floor_bits(100, 100, 4));
  // Unequal cohorts: N_eff = 60 * 2000 / 2060.
  EXPECT_NEAR(jsd_noise_floor_bits(60, 2000, 10),
              chi_square_quantile(9, kJsdNoiseQuantile) / (8 * (60.0 * 2000 / 2060) * std::log(2.0)), 1e-12);
}

TEST(QualityGate, SameLabelMixInSmallCohortsDoesNotTripTheLabelBound) {
  // A small canary (60 results) against the rest (80): label frequencies differ by chance alone.
  // A bare 0.01-bit bound would pause most such rollouts; with the noise floor, about none do.
  const GateBounds bounds = label_bound_only(0.01);
  int naive_trips = 0, trips = 0;
  double mean_jsd = 0;
  constexpr int kTrials = 400;
  for (int t = 0; t < kTrials; ++t) {
    GateVerdict v = evaluate_gate(bounds, mix(kFactoryMix, 60, 1000 + t), mix(kFactoryMix, 80, 5000 + t));
    naive_trips += v.label_jsd > bounds.max_label_jsd ? 1 : 0;
    trips += v.outcome == GateVerdict::Outcome::kTripped ? 1 : 0;
    mean_jsd += v.label_jsd / kTrials;
    EXPECT_GT(v.label_jsd_floor, 0.0);
    EXPECT_DOUBLE_EQ(v.label_jsd_bound, bounds.max_label_jsd + v.label_jsd_floor);
  }
  EXPECT_GT(naive_trips, kTrials / 2) << "the samples are too large to show the noise";
  EXPECT_LE(trips, kTrials / 100) << "identical label mixes paused " << trips << " of " << kTrials << " rollouts";
  // The expected JSD of two samples of one mix is about (k - 1) / (8 N_eff ln 2) bits.
  const double n_eff = 60.0 * 80 / 140;
  EXPECT_NEAR(mean_jsd, 9 / (8 * n_eff * std::log(2.0)), 0.35 * 9 / (8 * n_eff * std::log(2.0)));
}

TEST(QualityGate, ShiftedLabelMixTripsOnceThereAreEnoughSamples) {
  // The two most frequent classes trade places in part: JSD about 0.015 bits.
  std::vector<double> shifted = kFactoryMix;
  std::swap(shifted[0], shifted[1]);
  const GateBounds bounds = label_bound_only(0.005);
  GateVerdict few = evaluate_gate(bounds, mix(shifted, 100, 1), mix(kFactoryMix, 100, 2));
  EXPECT_EQ(few.outcome, GateVerdict::Outcome::kPass) << "100 results a side cannot tell: " << few.message;
  GateVerdict many = evaluate_gate(bounds, mix(shifted, 4000, 3), mix(kFactoryMix, 4000, 4));
  ASSERT_EQ(many.outcome, GateVerdict::Outcome::kTripped) << many.message;
  EXPECT_EQ(many.bound, "label_jsd");
  EXPECT_GT(many.label_jsd, many.label_jsd_bound);
  // The operator reads the measured JSD and the effective bound with its parts.
  char expected[96];
  std::snprintf(expected, sizeof expected, "JSD %.3f bits > bound %.3f", many.label_jsd, many.label_jsd_bound);
  EXPECT_NE(many.message.find(expected), std::string::npos) << many.message;
  EXPECT_NE(many.message.find("noise floor"), std::string::npos) << many.message;
  EXPECT_NE(many.message.find("10 labels"), std::string::npos) << many.message;
}

TEST(QualityGate, TooFewSamplesIsNotAVerdict) {
  GateBounds bounds;
  bounds.min_samples = 100;
  auto verdict = evaluate_gate(bounds, cohort(99, 11, rotate, 50, 5000), cohort(2000, 12, same, 200, 5000));
  EXPECT_EQ(verdict.outcome, GateVerdict::Outcome::kInsufficientData);
  EXPECT_NE(verdict.message.find("99"), std::string::npos) << verdict.message;
  bounds.enabled = false;
  EXPECT_EQ(evaluate_gate(bounds, cohort(99, 11, rotate, 50, 5000), CohortStats{}).outcome,
            GateVerdict::Outcome::kPass);
}

TEST(QualityGate, LatencyWindowStaysBounded) {
  CohortStats stats;
  for (uint32_t i = 0; i < 3 * CohortStats::kLatencyWindow; ++i) stats.add_result(0, 255, i < 2 * CohortStats::kLatencyWindow ? 1000000 : 10);
  EXPECT_EQ(stats.results(), 3 * CohortStats::kLatencyWindow);
  EXPECT_EQ(stats.p95_latency_us(), 10);  // only the recent window counts
  EXPECT_DOUBLE_EQ(stats.mean_score(), 1.0);
}

}  // namespace
}  // namespace tinyedge::rollout
