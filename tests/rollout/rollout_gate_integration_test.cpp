// The model-quality gate on real inference telemetry, end to end: a real mosquitto, the gateway
// library with the rollout runner, 20 host nodes (tinyedge-node) running the imported MLPerf Tiny
// keyword-spotting model on a replayed sample file, and two validly signed v2 packages that both
// pass their self-test: a good one (the same network) and a bad one whose output classes are
// permuted (tem_tools.h). The bad one must be stopped at the canary by the gate, the good one
// must go through with the same rollout settings.
//
// Like a factory microphone, the nodes hear mostly a few kinds of input: the sample file is
// skewed towards a few classes. On class-balanced input a class permutation would leave the label
// histogram, the scores and the latency unchanged and no fleet-level statistic could see it (the
// per-sample disagreement bound, which needs replayed sample ids real fleets do not have, is off).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "gateway/rollout/quality_gate.h"
#include "ota/package.h"
#include "tests/rollout/rollout_harness.h"
#include "tests/rollout/tem_tools.h"

namespace tinyedge::rollout {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::GatewayUnderTest;
using testing::shared_model;
using testing::wait_until;

constexpr int kNodes = 20;
constexpr size_t kSamples = 60;

std::map<uint32_t, uint64_t> histogram(const std::vector<uint32_t>& labels) {
  std::map<uint32_t, uint64_t> h;
  for (uint32_t l : labels) ++h[l];
  return h;
}

// Smooth spectrogram-like patterns with noise, as int8 input tensors of `bytes` each.
std::vector<int8_t> candidate_inputs(size_t count, size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> noise(0, 1);
  std::vector<int8_t> out(count * bytes);
  for (size_t i = 0; i < count; ++i) {
    double base = -128 + 256 * u(rng), amp = 10 + 110 * u(rng), f1 = 0.05 + 0.6 * u(rng), f2 = 0.05 + 1.5 * u(rng);
    double phase = 6.28 * u(rng), sigma = 30 * u(rng);
    for (size_t b = 0; b < bytes; ++b) {
      double t = static_cast<double>(b / 10), f = static_cast<double>(b % 10);
      double v = base + amp * std::sin(f1 * t + f2 * f + phase) + sigma * noise(rng);
      out[i * bytes + b] = static_cast<int8_t>(std::clamp(std::lround(v), -128L, 127L));
    }
  }
  return out;
}

class RolloutGate : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string model = shared_model("kws_ref_model.tflite");
    const std::string golden = shared_model("vectors/kws_ref_model/in_000.bin");
    if (!fs::exists(model) || !fs::exists(golden)) {
      if (std::getenv("CI") && std::string(std::getenv("CI")) == "true") FAIL() << "missing " << model;
      GTEST_SKIP() << "MLPerf Tiny model not found at " << model << " (needs ../shared/models)";
    }
    dir_ = test::make_temp_dir("rollout-gate");
    keys_ = dir_ + "/fleet";
    ASSERT_EQ(testing::run_cli({TINYEDGE_CLI_EXE, "keys", "generate", "--out", keys_}, dir_ + "/keys.log"), "");
    const std::vector<std::string> self_test = {"--self-test", golden};
    ASSERT_EQ(testing::import_and_package(model, 1, dir_ + "/v1.tem", dir_ + "/v1.tep", keys_, self_test, dir_), "");
    ASSERT_EQ(testing::import_and_package(model, 2, dir_ + "/good.tem", dir_ + "/good.tep", keys_, self_test, dir_),
              "");
    const std::vector<uint8_t> v1 = ota::read_file(dir_ + "/v1.tem");
    const std::vector<uint8_t> good = ota::read_file(dir_ + "/good.tem");

    // The bad v2: the good v2 with its 12 output classes rotated, signed like any other package
    // (its self-test output hash is computed from the permuted model itself).
    std::vector<uint32_t> perm(12);
    for (uint32_t c = 0; c < perm.size(); ++c) perm[c] = (c + 5) % perm.size();
    const std::vector<uint8_t> bad = testing::permute_output_classes(good, perm);
    std::ofstream(dir_ + "/bad.tem", std::ios::binary).write(reinterpret_cast<const char*>(bad.data()), bad.size());
    ASSERT_EQ(testing::package_tem(dir_ + "/bad.tem", 2, dir_ + "/bad.tep", keys_, self_test, dir_), "");

    // The nodes' input: mostly the class the model hears most, some of two others.
    runtime::Model m;
    ASSERT_EQ(runtime::Model::load(v1, m), runtime::Status::kOk);
    const size_t bytes = m.input_info().element_count;
    const std::vector<int8_t> pool = candidate_inputs(300, bytes, 7);
    const std::vector<uint32_t> pool_labels = testing::top1_labels(v1, pool);
    std::map<uint32_t, std::vector<size_t>> by_label;
    for (size_t i = 0; i < pool_labels.size(); ++i) by_label[pool_labels[i]].push_back(i);
    std::vector<std::pair<size_t, uint32_t>> ranked;  // (count, label), most frequent first
    for (const auto& [label, idx] : by_label) ranked.push_back({idx.size(), label});
    std::sort(ranked.rbegin(), ranked.rend());
    const double shares[] = {0.6, 0.25, 0.15};
    std::vector<size_t> chosen;
    for (size_t r = 0; r < std::min<size_t>(3, ranked.size()); ++r) {
      const auto& idx = by_label[ranked[r].second];
      size_t n = r + 1 == std::min<size_t>(3, ranked.size()) ? kSamples - chosen.size()
                                                             : static_cast<size_t>(shares[r] * kSamples);
      for (size_t k = 0; k < n; ++k) chosen.push_back(idx[k % idx.size()]);
    }
    std::shuffle(chosen.begin(), chosen.end(), std::mt19937(11));
    std::vector<int8_t> samples;
    for (size_t i : chosen) samples.insert(samples.end(), pool.begin() + i * bytes, pool.begin() + (i + 1) * bytes);
    std::ofstream(dir_ + "/samples.bin", std::ios::binary)
        .write(reinterpret_cast<const char*>(samples.data()), static_cast<std::streamsize>(samples.size()));

    // Preconditions, so a pass means something: the input is skewed, the good v2 answers as v1
    // does, and the bad one, same input, gives a clearly different label mix.
    const auto h_v1 = histogram(testing::top1_labels(v1, samples));
    const auto h_good = histogram(testing::top1_labels(good, samples));
    const auto h_bad = histogram(testing::top1_labels(bad, samples));
    uint64_t top = 0;
    for (const auto& [label, n] : h_v1) top = std::max(top, n);
    ASSERT_GE(top, kSamples / 2) << "sample file is not skewed";
    ASSERT_EQ(h_good, h_v1);
    offline_bad_jsd_ = jensen_shannon_bits(h_bad, h_v1);
    ASSERT_GT(offline_bad_jsd_, 0.3) << "the permutation does not change the label mix on this input";

    broker_ = std::make_unique<test::Mosquitto>(dir_);
    broker_->start();
    gateway_ = std::make_unique<GatewayUnderTest>(dir_, broker_->url(), keys_);
    nodes_pid_ = test::spawn(
        {TINYEDGE_NODE_EXE, "--model", dir_ + "/v1.tem", "--broker", broker_->url(), "--count", std::to_string(kNodes),
         "--id-prefix", "mic", "--samples", dir_ + "/samples.bin", "--trust-key", keys_ + ".pub", "--data-dir",
         dir_ + "/nodes", "--interval-ms", "200", "--report-interval-ms", "500"},
        dir_ + "/nodes.log");
    ASSERT_TRUE(wait_until([&] { return gateway_->online_nodes() == kNodes; }, 60s))
        << gateway_->online_nodes() << " of " << kNodes << " nodes online";
    gateway_->control().upload_model(ota::read_file(dir_ + "/v1.tep"));
  }
  void TearDown() override {
    if (nodes_pid_ > 0) test::stop_process(nodes_pid_, SIGTERM, 10000);
    gateway_.reset();
    broker_.reset();
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }
  // The same rollout for both packages: canary of 4, then everyone; the gate judges the canary.
  int64_t start(const std::string& package) {
    ModelRow row = gateway_->control().upload_model(ota::read_file(package));
    RolloutRequest r;
    r.model_ref = row.id;
    r.canary = "4";
    r.waves = "100";
    r.max_failures = "0";
    r.soak = "25s";
    r.node_timeout = "30s";
    r.gate.min_samples = 150;
    r.gate.max_disagreement = 0;            // no replayed sample ids in a real fleet
    r.gate.max_p95_latency_increase = 3.0;  // same network; 2 shared cores make latency noisy
    return gateway_->control().start(r).record.id;
  }
  RolloutState state(int64_t id) { return gateway_->control().get(id, false).record.state; }

  std::string dir_, keys_;
  double offline_bad_jsd_ = 0;
  std::unique_ptr<test::Mosquitto> broker_;
  std::unique_ptr<GatewayUnderTest> gateway_;
  pid_t nodes_pid_ = -1;
};

TEST_F(RolloutGate, PermutedClassesAreStoppedAtTheCanaryByTheLabelBound) {
  const int64_t id = start(dir_ + "/bad.tep");
  ASSERT_TRUE(wait_until([&] { return state(id) != RolloutState::kRunning; }, 90s))
      << "the gate never stopped the bad model: " << gateway_->control().get(id, false).record.gate_message;
  std::this_thread::sleep_for(2s);  // a wrongly continuing engine would offer wave 1 now
  RolloutView view = gateway_->control().get(id, true);
  ASSERT_EQ(view.record.state, RolloutState::kPaused) << view.record.reason;
  EXPECT_EQ(view.record.phase, 0u) << view.phase_name;
  // Names the bound, the measured JSD and the effective bound.
  EXPECT_EQ(view.record.reason.rfind("quality gate", 0), 0u) << view.record.reason;
  EXPECT_NE(view.record.reason.find("label_jsd"), std::string::npos) << view.record.reason;
  EXPECT_NE(view.record.reason.find("label distribution diverged: JSD"), std::string::npos) << view.record.reason;
  EXPECT_NE(view.record.reason.find("noise floor"), std::string::npos) << view.record.reason;
  EXPECT_NE(view.record.reason.find("after canary"), std::string::npos) << view.record.reason;
  // The canary took the (validly signed, self-tested) package; nobody else was offered it.
  for (const NodeRecord& n : view.nodes) {
    if (n.phase == 0) {
      EXPECT_EQ(n.state, NodeState::kActivated) << n.node_id << " " << n.reason;
    } else {
      EXPECT_EQ(n.state, NodeState::kPending) << n.node_id;
      EXPECT_EQ(n.attempts, 0u) << n.node_id << " was offered the bad model";
    }
  }
  // The gate judged on what the fleet reported: the bad canary's label mix shifted about as much
  // as the offline run of the same models on the same samples says.
  const size_t at = view.record.reason.find("JSD ");
  ASSERT_NE(at, std::string::npos);
  const double measured = std::strtod(view.record.reason.c_str() + at + 4, nullptr);
  EXPECT_GT(measured, 0.5 * offline_bad_jsd_) << view.record.reason;
  std::printf("offline JSD of the bad model's labels: %.3f bits; gate: %s\n", offline_bad_jsd_,
              view.record.reason.c_str());
}

TEST_F(RolloutGate, TheSameRolloutWithTheGoodModelGoesThrough) {
  const int64_t id = start(dir_ + "/good.tep");
  ASSERT_TRUE(wait_until([&] { return state(id) != RolloutState::kRunning; }, 120s))
      << "rollout still running: " << gateway_->control().get(id, false).record.gate_message;
  RolloutView view = gateway_->control().get(id, false);
  ASSERT_EQ(view.record.state, RolloutState::kCompleted) << view.record.reason;
  EXPECT_EQ(view.counts[NodeState::kActivated], static_cast<uint32_t>(kNodes));
  // The gate did judge (it did not just run out of data) and passed.
  EXPECT_EQ(view.record.gate_message.rfind("quality gate: pass", 0), 0u) << view.record.gate_message;
}

}  // namespace
}  // namespace tinyedge::rollout
