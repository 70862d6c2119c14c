#include <gtest/gtest.h>

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
  for (int i = 0; i < 40; ++i) updated.add_error();
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
