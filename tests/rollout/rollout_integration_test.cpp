// Rollouts end to end: a real mosquitto, the gateway library with the rollout runner on its own
// io_context (as the daemon runs them), 100 host nodes (tinyedge-node, with the real OTA client
// and flash emulated in files), real signed packages made by the `tinyedge` CLI from an imported
// MLPerf Tiny model.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>
#include <tuple>

#include "ota/package.h"
#include "tests/rollout/rollout_harness.h"
#include "tests/rollout/tem_tools.h"

namespace tinyedge::rollout {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::GatewayUnderTest;
using testing::run_cli;
using testing::shared_model;

constexpr int kNodes = 100;

class RolloutIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string model = shared_model("kws_ref_model.tflite");
    if (!fs::exists(model)) {
      if (std::getenv("CI") && std::string(std::getenv("CI")) == "true") FAIL() << "missing " << model;
      GTEST_SKIP() << "MLPerf Tiny model not found at " << model << " (needs ../shared/models)";
    }
    dir_ = test::make_temp_dir("rollout-it");
    const std::string cli = TINYEDGE_CLI_EXE;
    keys_ = dir_ + "/fleet";
    ASSERT_EQ(run_cli({cli, "keys", "generate", "--out", keys_}, dir_ + "/keys.log"), "");
    // The safe setup: the gateway signs rollback grants with a key of their own, which the nodes
    // trust for grants only; the fleet's private key never reaches the gateway.
    rollback_key_ = dir_ + "/rollback";
    ASSERT_EQ(run_cli({cli, "keys", "generate", "--out", rollback_key_}, dir_ + "/keys.log"), "");
    for (int v : {1, 2}) {
      std::string tem = dir_ + "/kws_v" + std::to_string(v) + ".tem";
      ASSERT_EQ(run_cli({cli, "model", "import", shared_model("kws_ref_model.tflite"), "--version", std::to_string(v),
                         "-o", tem},
                        dir_ + "/import.log"),
                "");
      ASSERT_EQ(run_cli({cli, "package", "create", "--model", tem, "--version", std::to_string(v), "--key",
                         keys_ + ".key", "-o", dir_ + "/kws_v" + std::to_string(v) + ".tep"},
                        dir_ + "/package.log"),
                "");
    }
    broker_ = std::make_unique<test::Mosquitto>(dir_);
    broker_->start();
    api_port_ = test::free_port();
    gateway_ =
        std::make_unique<GatewayUnderTest>(dir_, broker_->url(), keys_, 4u << 20, api_port_, rollback_key_ + ".key");
    nodes_pid_ =
        test::spawn({TINYEDGE_NODE_EXE, "--model", dir_ + "/kws_v1.tem", "--broker", broker_->url(), "--count",
                     std::to_string(kNodes), "--id-prefix", "n", "--trust-key", keys_ + ".pub", "--trust-rollback-key",
                     rollback_key_ + ".pub", "--data-dir", dir_ + "/nodes", "--interval-ms", "500"},
                    dir_ + "/nodes.log");
    ASSERT_TRUE(wait([&] { return online() == kNodes; }, 60s)) << online() << " of " << kNodes << " nodes online";
    for (int v : {1, 2}) {
      auto bytes = ota::read_file(dir_ + "/kws_v" + std::to_string(v) + ".tep");
      gateway_->control().upload_model(bytes);
    }
  }
  void TearDown() override {
    if (nodes_pid_ > 0) test::stop_process(nodes_pid_, SIGTERM, 10000);
    gateway_.reset();
    broker_.reset();
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }
  int online() {
    auto q = gateway_->gateway().open_query();
    int n = 0;
    for (const auto& row : q->nodes()) n += row.online ? 1 : 0;
    return n;
  }
  uint64_t events() { return gateway_->gateway().open_query()->event_count(); }
  template <typename Pred>
  bool wait(Pred pred, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return pred();
  }
  bool stopped(int64_t id) {
    auto s = gateway_->control().get(id, false).record.state;
    return s != RolloutState::kRunning && s != RolloutState::kRollingBack;
  }
  RolloutRequest request() {
    RolloutRequest r;
    r.model_id = model_id();
    r.version = 2;
    r.canary = "5";
    r.waves = "25,50,100";
    r.max_failures = "2%";
    r.max_concurrent = 50;
    r.node_timeout = "30s";
    r.gate.enabled = false;
    return r;
  }
  uint32_t model_id() {
    for (const auto& m : gateway_->control().models()) return m.model_id;
    return 0;
  }

  std::string dir_, keys_, rollback_key_;
  uint16_t api_port_ = 0;
  std::unique_ptr<test::Mosquitto> broker_;
  std::unique_ptr<GatewayUnderTest> gateway_;
  pid_t nodes_pid_ = -1;
};

TEST_F(RolloutIntegration, HundredNodesCanaryThenWavesAllActivatedWhileIngestContinues) {
  uint64_t events_before = events();
  int64_t id = gateway_->control().start(request()).record.id;
  ASSERT_TRUE(wait([&] { return stopped(id); }, 180s)) << "rollout still running";
  RolloutView view = gateway_->control().get(id, true);
  ASSERT_EQ(view.record.state, RolloutState::kCompleted) << view.record.reason;
  EXPECT_EQ(view.counts[NodeState::kActivated], static_cast<uint32_t>(kNodes));
  TimeMs canary_done = 0, wave1_start = INT64_MAX;
  for (const auto& n : view.nodes) {
    if (n.phase == 0)
      canary_done = std::max(canary_done, n.finished_at);
    else
      wave1_start = std::min(wave1_start, n.offered_at);
  }
  // Same millisecond is fine: the engine offers wave 1 only after the last canary status.
  EXPECT_LE(canary_done, wave1_start) << "wave 1 started before the canary finished";
  // Ingest kept going: results arrived and were stored during the rollout.
  EXPECT_GT(events(), events_before + kNodes) << "event ingest stalled during the rollout";
  // Every chunk was taken by the bearer: chunks wait while its queue is deep, none is dropped.
  EXPECT_EQ(gateway_->service().ota_undeliverable(), 0u) << "chunks the MQTT bearer did not take";
  // Each node got the payload about once: re-requests after a timeout may repeat a window.
  size_t payload = ota::read_package_file(dir_ + "/kws_v2.tep").payload.size();
  for (const auto& [node, stats] : gateway_->service().all_wire_stats()) {
    EXPECT_GE(stats.chunk_payload_bytes, payload) << node;
    EXPECT_LE(stats.chunk_payload_bytes, payload + 4 * 512) << node;
  }
}

TEST_F(RolloutIntegration, AbortWithRollbackReturnsUpdatedNodesToThePreviousVersion) {
  RolloutRequest r = request();
  r.waves = "50,100";
  int64_t id = gateway_->control().start(r).record.id;
  ASSERT_TRUE(wait([&] { return gateway_->control().get(id, false).counts[NodeState::kActivated] >= 20; }, 120s));
  gateway_->control().abort(id, true);
  ASSERT_TRUE(wait([&] { return stopped(id); }, 180s));
  RolloutView view = gateway_->control().get(id, true);
  ASSERT_EQ(view.record.state, RolloutState::kRolledBack) << view.record.reason;
  uint32_t rolled = 0;
  for (const auto& n : view.nodes) {
    if (!n.rollback) continue;
    ++rolled;
    EXPECT_EQ(n.state, NodeState::kActivated) << n.node_id << " " << n.reason;
  }
  EXPECT_GE(rolled, 20u);
}

// Also: the operator cancels one node mid-download through the CLI before the restart; it stops,
// keeps v1 (its inferences go on under v1), stays cancelled across the restart, and the rest
// activate.
TEST_F(RolloutIntegration, GatewayRestartMidWaveContinuesWithoutRestartingDownloads) {
  RolloutRequest r = request();
  int64_t id = gateway_->control().start(r).record.id;
  std::string cancelled;  // a node early in its download, so the cancel reaches it before the end
  ASSERT_TRUE(wait(
      [&] {
        for (const auto& n : gateway_->control().get(id, true).nodes) {
          if (n.phase > 0 && n.state == NodeState::kDownloading && n.bytes_written * 4 < n.total_bytes) {
            cancelled = n.node_id;
            return true;
          }
        }
        return false;
      },
      120s))
      << "no node seen early in its download";
  bool ok = false;
  const std::string said = testing::run_cli_output(
      {TINYEDGE_CLI_EXE, "rollout", "cancel-node", std::to_string(id), cancelled, "--gateway",
       "http://127.0.0.1:" + std::to_string(api_port_), "--token", GatewayUnderTest::api_token()},
      dir_ + "/cancel.log", ok);
  ASSERT_TRUE(ok) << said;
  EXPECT_NE(said.find("node " + cancelled + " cancelled"), std::string::npos) << said;
  ASSERT_TRUE(wait([&] { return gateway_->control().get(id, false).counts[NodeState::kActivated] >= 30; }, 120s));
  auto first = gateway_->service().all_wire_stats();
  gateway_.reset();  // the daemon goes away mid-wave
  gateway_ = std::make_unique<GatewayUnderTest>(dir_, broker_->url(), keys_, 4u << 20, 0, rollback_key_ + ".key");
  ASSERT_TRUE(wait([&] { return stopped(id); }, 180s));
  RolloutView view = gateway_->control().get(id, true);
  ASSERT_EQ(view.record.state, RolloutState::kCompleted) << view.record.reason;
  EXPECT_EQ(view.counts[NodeState::kActivated], static_cast<uint32_t>(kNodes - 1));
  EXPECT_EQ(view.counts[NodeState::kCancelled], 1u);
  for (const auto& n : view.nodes) {
    if (n.node_id == cancelled) {
      EXPECT_EQ(n.state, NodeState::kCancelled) << n.reason;
    }
  }
  // The cancelled node kept v1: its results after the rollout are still v1's.
  const uint64_t seen = events();
  ASSERT_TRUE(wait([&] { return events() > seen + 2 * kNodes; }, 30s));
  auto q = gateway_->gateway().open_query();
  for (const auto& row : q->nodes()) {
    if (row.node_id == cancelled) {
      EXPECT_EQ(row.model_version, 1u) << cancelled << " activated v2 after its cancel";
    }
  }
  size_t payload = ota::read_package_file(dir_ + "/kws_v2.tep").payload.size();
  for (const auto& [node, stats] : gateway_->service().all_wire_stats()) {
    uint64_t before = first.count(node) ? first[node].chunk_payload_bytes : 0;
    // Resumed, not restarted: at most one window of chunks (lost in flight) is sent twice.
    EXPECT_LE(before + stats.chunk_payload_bytes, payload + 8 * 512) << node << " downloaded twice";
  }
}

// Delta packages over the real thing: host nodes on two bases (v1, and v1b registered as v2) and
// one whose model says v1 but is other bytes, a gateway holding v3 in full and as a delta from
// v1 (`package create --from`). A few nodes only: what is tested is who gets which package.
class DeltaRolloutIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string model = shared_model("kws_ref_model.tflite");
    if (!fs::exists(model)) {
      if (std::getenv("CI") && std::string(std::getenv("CI")) == "true") FAIL() << "missing " << model;
      GTEST_SKIP() << "MLPerf Tiny model not found at " << model << " (needs ../shared/models)";
    }
    dir_ = test::make_temp_dir("rollout-delta");
    const std::string cli = TINYEDGE_CLI_EXE;
    keys_ = dir_ + "/fleet";
    ASSERT_EQ(run_cli({cli, "keys", "generate", "--out", keys_}, dir_ + "/keys.log"), "");
    // v1b and v3 are v1 with the classifier head's rows in another order (as a retrained head
    // would change them); the liar's model is v1's header over such a head.
    const std::vector<uint32_t> b{1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10}, c{2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9},
        liar{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
    const std::vector<std::pair<std::string, std::pair<uint32_t, const std::vector<uint32_t>*>>> models{
        {"v1", {1, nullptr}}, {"v1b", {2, &b}}, {"v3", {3, &c}}, {"liar", {1, &liar}}};
    for (const auto& [name, spec] : models) {
      const std::string tem = dir_ + "/" + name + ".tem";
      ASSERT_EQ(run_cli({cli, "model", "import", model, "--version", std::to_string(spec.first), "-o", tem},
                        dir_ + "/import.log"),
                "");
      if (spec.second) {
        const auto bytes = ota::read_file(tem);
        const auto permuted = testing::permute_output_classes(bytes, *spec.second);
        std::ofstream(tem, std::ios::binary)
            .write(reinterpret_cast<const char*>(permuted.data()), static_cast<std::streamsize>(permuted.size()));
      }
      if (name == "liar") continue;
      ASSERT_EQ(testing::package_tem(tem, spec.first, dir_ + "/" + name + ".tep", keys_, {}, dir_), "");
    }
    ASSERT_EQ(
        testing::package_tem(dir_ + "/v3.tem", 3, dir_ + "/v3-from-v1.tep", keys_, {"--from", dir_ + "/v1.tep"}, dir_),
        "");
    broker_ = std::make_unique<test::Mosquitto>(dir_);
    broker_->start();
    gateway_ = std::make_unique<GatewayUnderTest>(dir_, broker_->url(), keys_);
    for (const auto& [tem, prefix, count] : {std::tuple{"v1", "a", 3}, {"v1b", "b", 2}, {"liar", "l", 1}}) {
      pids_.push_back(test::spawn({TINYEDGE_NODE_EXE, "--model", dir_ + "/" + tem + ".tem", "--broker", broker_->url(),
                                   "--count", std::to_string(count), "--id-prefix", prefix, "--trust-key",
                                   keys_ + ".pub", "--data-dir", dir_ + "/nodes-" + prefix, "--interval-ms", "500"},
                                  dir_ + "/nodes-" + prefix + ".log"));
    }
    ASSERT_TRUE(testing::wait_until([&] { return gateway_->online_nodes() == 6; }, 90s))
        << gateway_->online_nodes() << " of 6 nodes online";
    for (const char* tep : {"v1", "v1b", "v3", "v3-from-v1"})
      gateway_->control().upload_model(ota::read_file(dir_ + "/" + tep + ".tep"));
  }
  void TearDown() override {
    for (pid_t pid : pids_) test::stop_process(pid, SIGTERM, 10000);
    gateway_.reset();
    broker_.reset();
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }

  std::string dir_, keys_;
  std::unique_ptr<test::Mosquitto> broker_;
  std::unique_ptr<GatewayUnderTest> gateway_;
  std::vector<pid_t> pids_;
};

// A node that says Hello before the gateway has subscribed is seen online only through its retained
// state; the gateway learns its model from its results. Until it knows every node's model, a
// rollout would offer the unknown ones the full package (safe, but not what is tested here).
TEST_F(DeltaRolloutIntegration, V1NodesFetchTheDeltaV1bNodesTheFullPackageAndALiarFallsBack) {
  ASSERT_TRUE(testing::wait_until(
      [&] {
        for (const auto& row : gateway_->gateway().open_query()->nodes())
          if (row.model_version == 0) return false;
        return true;
      },
      20s))
      << "the gateway does not know the model of every node (neither from its Hello nor its results)";
  const size_t full = ota::read_package_file(dir_ + "/v3.tep").payload.size();
  const size_t delta = ota::read_package_file(dir_ + "/v3-from-v1.tep").payload.size();
  ASSERT_LT(delta * 4, full) << "the head-only change should make a small delta";
  std::vector<ModelRow> models = gateway_->control().models();
  const auto v3 = std::find_if(models.begin(), models.end(), [](const ModelRow& m) { return m.version == 3; });
  ASSERT_NE(v3, models.end());
  ASSERT_EQ(v3->deltas.size(), 1u) << "the registry lists v3's delta";
  EXPECT_EQ(v3->deltas[0].base_version, 1u);

  RolloutRequest r;
  r.model_id = v3->model_id;
  r.version = 3;
  r.canary = "1";
  r.waves = "100";
  r.node_timeout = "20s";
  r.gate.enabled = false;
  const int64_t id = gateway_->control().start(r).record.id;
  ASSERT_TRUE(testing::wait_until(
      [&] { return gateway_->control().get(id, false).record.state != RolloutState::kRunning; }, 60s))
      << "rollout still running";
  RolloutView view = gateway_->control().get(id, true);
  ASSERT_EQ(view.record.state, RolloutState::kCompleted) << view.record.reason;
  EXPECT_EQ(view.counts[NodeState::kActivated], 6u);
  // Every node says it runs v3 now (the node table, from its Hello after the switch).
  ASSERT_TRUE(testing::wait_until(
      [&] {
        for (const auto& row : gateway_->gateway().open_query()->nodes())
          if (row.model_version != 3) return false;
        return true;
      },
      20s))
      << "not every node reports v3";
  // Bytes on the wire: a v1 node the delta (plus at most a window of re-sent chunks), the others
  // the full payload, the liar nothing of the delta (it refused before fetching).
  const auto wire = gateway_->service().all_wire_stats();
  for (const char* node : {"a1", "a2", "a3", "b1", "b2", "l1"}) {
    ASSERT_TRUE(wire.count(node)) << node << " fetched nothing";
    const bool on_v1 = node[0] == 'a';
    const uint64_t want = on_v1 ? delta : full;
    EXPECT_GE(wire.at(node).chunk_payload_bytes, want) << node;
    EXPECT_LE(wire.at(node).chunk_payload_bytes, want + 4 * 512) << node << (on_v1 ? ": more than the delta" : "");
  }
  EXPECT_EQ(wire.at("l1").offers, 2u) << "the liar: the delta, refused, then the full package";
}

}  // namespace
}  // namespace tinyedge::rollout
