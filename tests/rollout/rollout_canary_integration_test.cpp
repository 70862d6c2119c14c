// The failure threshold at the canary, end to end: a real mosquitto, the gateway library with the
// rollout runner and the dashboard API, two fleets of host nodes (tinyedge-node) reporting
// different hardware ids, and a package signed for one of them only. The nodes of the other
// hardware sit in the canary and refuse the package (wrong_hardware): the rollout must pause
// there, offer nothing to anyone outside the canary, and `tinyedge rollout status` (the real CLI
// over the REST API) must say why.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "ota/package.h"
#include "tests/rollout/rollout_harness.h"

namespace tinyedge::rollout {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::GatewayUnderTest;
using testing::shared_model;
using testing::wait_until;

constexpr int kUnsupported = 3;  // hardware "board-b": a1..a3, first in the rollout order
constexpr int kSupported = 22;   // hardware "board-a": n1..n22
constexpr int kNodes = kUnsupported + kSupported;

class RolloutCanary : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string model = shared_model("kws_ref_model.tflite");
    const std::string golden = shared_model("vectors/kws_ref_model/in_000.bin");
    if (!fs::exists(model) || !fs::exists(golden)) {
      if (std::getenv("CI") && std::string(std::getenv("CI")) == "true") FAIL() << "missing " << model;
      GTEST_SKIP() << "MLPerf Tiny model not found at " << model << " (needs ../shared/models)";
    }
    dir_ = test::make_temp_dir("rollout-canary");
    keys_ = dir_ + "/fleet";
    ASSERT_EQ(testing::run_cli({TINYEDGE_CLI_EXE, "keys", "generate", "--out", keys_}, dir_ + "/keys.log"), "");
    // v1 runs anywhere; v2 is built for board-a only, with a golden self-test.
    ASSERT_EQ(testing::import_and_package(model, 1, dir_ + "/kws_v1.tem", dir_ + "/kws_v1.tep", keys_, {}, dir_), "");
    ASSERT_EQ(testing::import_and_package(model, 2, dir_ + "/kws_v2.tem", dir_ + "/kws_v2.tep", keys_,
                                          {"--hardware", "board-a", "--self-test", golden}, dir_),
              "");
    broker_ = std::make_unique<test::Mosquitto>(dir_);
    broker_->start();
    api_port_ = test::free_port();
    gateway_ = std::make_unique<GatewayUnderTest>(dir_, broker_->url(), keys_, 4u << 20, api_port_);
    auto fleet = [&](const std::string& prefix, int count, const std::string& hardware) {
      return test::spawn({TINYEDGE_NODE_EXE, "--model", dir_ + "/kws_v1.tem", "--broker", broker_->url(), "--count",
                          std::to_string(count), "--id-prefix", prefix, "--hardware", hardware, "--trust-key",
                          keys_ + ".pub", "--data-dir", dir_ + "/nodes-" + prefix, "--interval-ms", "500"},
                         dir_ + "/nodes-" + prefix + ".log");
    };
    pids_.push_back(fleet("a", kUnsupported, "board-b"));
    pids_.push_back(fleet("n", kSupported, "board-a"));
    ASSERT_TRUE(wait_until([&] { return gateway_->online_nodes() == kNodes; }, 60s))
        << gateway_->online_nodes() << " of " << kNodes << " nodes online";
    for (int v : {1, 2}) gateway_->control().upload_model(ota::read_file(dir_ + "/kws_v" + std::to_string(v) + ".tep"));
  }
  void TearDown() override {
    for (pid_t pid : pids_) test::stop_process(pid, SIGTERM, 10000);
    gateway_.reset();
    broker_.reset();
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }
  std::string cli_status(int64_t id, bool& ok) {
    return testing::run_cli_output(
        {TINYEDGE_CLI_EXE, "rollout", "status", std::to_string(id), "--nodes", "--gateway",
         "http://127.0.0.1:" + std::to_string(api_port_), "--token", GatewayUnderTest::api_token()},
        dir_ + "/status.log", ok);
  }

  std::string dir_, keys_;
  uint16_t api_port_ = 0;
  std::unique_ptr<test::Mosquitto> broker_;
  std::unique_ptr<GatewayUnderTest> gateway_;
  std::vector<pid_t> pids_;
};

TEST_F(RolloutCanary, WrongHardwareInTheCanaryPausesThereAndNobodyElseIsOffered) {
  const ota::Manifest manifest = ota::manifest_of(ota::read_package_file(dir_ + "/kws_v2.tep"));
  RolloutRequest r;
  r.model_id = manifest.model_id;
  r.version = 2;
  r.canary = "5";  // a1..a3 (board-b) and the first two board-a nodes
  r.waves = "50,100";
  r.max_failures = "10%";
  r.node_timeout = "30s";
  r.gate.enabled = false;
  const int64_t id = gateway_->control().start(r).record.id;
  ASSERT_TRUE(
      wait_until([&] { return gateway_->control().get(id, false).record.state != RolloutState::kRunning; }, 60s))
      << "rollout never stopped: " << gateway_->control().get(id, false).record.reason;
  // Give a wrongly continuing engine the time to offer the next wave.
  std::this_thread::sleep_for(3s);

  RolloutView view = gateway_->control().get(id, true);
  ASSERT_EQ(view.record.state, RolloutState::kPaused) << view.record.reason;
  EXPECT_EQ(view.record.phase, 0u) << "paused after the canary, in " << view.phase_name;
  EXPECT_NE(view.record.reason.find("failure threshold"), std::string::npos) << view.record.reason;
  EXPECT_NE(view.record.reason.find("canary"), std::string::npos) << view.record.reason;
  EXPECT_NE(view.record.reason.find("wrong_hardware"), std::string::npos) << view.record.reason;

  std::set<std::string> canary;
  uint32_t refused = 0;
  for (const NodeRecord& n : view.nodes) {
    if (n.phase == 0) {
      canary.insert(n.node_id);
      if (n.node_id[0] == 'a') {
        ++refused;
        EXPECT_EQ(n.state, NodeState::kRefused) << n.node_id << " " << n.reason;
        EXPECT_EQ(n.reason, "wrong_hardware") << n.node_id;
      }
      continue;
    }
    // Outside the canary: never offered, by the engine's records...
    EXPECT_EQ(n.state, NodeState::kPending) << n.node_id << " " << n.reason;
    EXPECT_EQ(n.attempts, 0u) << n.node_id << " was offered the package";
    EXPECT_EQ(n.offered_at, 0) << n.node_id << " was offered the package";
  }
  ASSERT_EQ(canary.size(), 5u);
  EXPECT_EQ(refused, static_cast<uint32_t>(kUnsupported)) << "the board-b nodes were not all in the canary";
  // ... and by what actually went out on the wire.
  for (const auto& [node, stats] : gateway_->service().all_wire_stats()) {
    if (!canary.count(node)) {
      EXPECT_EQ(stats.offers, 0u) << node << " got an UpdateOffer";
      EXPECT_EQ(stats.chunks, 0u) << node << " got chunks";
    }
  }
  // Every node still runs v1 but the canary's board-a nodes.
  for (const auto& node : gateway_->gateway().open_query()->nodes()) {
    if (!canary.count(node.node_id)) {
      EXPECT_EQ(node.model_version, 1u) << node.node_id;
    }
  }

  // The operator's view: the real CLI over the dashboard API.
  bool ok = false;
  std::string out = cli_status(id, ok);
  ASSERT_TRUE(ok) << out;
  EXPECT_NE(out.find("paused"), std::string::npos) << out;
  EXPECT_NE(out.find("why: failure threshold"), std::string::npos) << out;
  EXPECT_NE(out.find("wrong_hardware"), std::string::npos) << out;
  EXPECT_NE(out.find("a1 refused (wrong_hardware)"), std::string::npos) << out;
}

}  // namespace
}  // namespace tinyedge::rollout
