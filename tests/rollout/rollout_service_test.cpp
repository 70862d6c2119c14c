// The rollout service end to end in-process: real registry (SQLite), real signatures, real node
// OTA clients (sim_fleet.h), a clock the test owns.
#include "gateway/rollout/rollout_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>

#include "gateway/rollout/rollout_json.h"
#include "gateway/store/sqlite/sqlite_rollout_store.h"
#include "tests/rollout/sim_fleet.h"

namespace tinyedge::rollout {
namespace {

namespace fs = std::filesystem;
using testing::head_changed;
using testing::payload_package;
using testing::SimFleet;
using testing::SimNode;

constexpr size_t kPayload = 6000;

class RolloutServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rollout_service_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    v1_ = testing::sim_package(key_, 1, kPayload);
    v2_ = testing::sim_package(key_, 2, kPayload);
    open();
    registry_->add(ota::encode_package(v1_), now_);
  }
  void TearDown() override {
    service_.reset();
    registry_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  // (Re)opens store, registry and service on the same database: a gateway (re)start.
  void open(bool with_key = true) {
    service_.reset();
    registry_.reset();
    store_.reset();
    store_ = std::make_unique<gateway::SqliteRolloutStore>((dir_ / "gateway.db").string());
    registry_ = std::make_unique<ModelRegistry>(*store_, std::vector{ota::make_trusted_key(key_.public_point())});
    std::optional<ota::SigningKey> grant_key;
    if (with_key) grant_key = ota::SigningKey::from_pem(rollback_key_.private_pem());
    RolloutServiceConfig config;
    config.fleet_poll_ms = 50;
    config.results_poll_ms = 50;
    config.ota.bytes_per_second = rate_;
    if (chunk_ != 0) {
      config.ota.chunk_size = chunk_;
      config.ota.burst_bytes = chunk_;  // no burst: a small download is paced too
    }
    service_ = std::make_unique<RolloutService>(
        *store_, *registry_, *fleet_, config, [this] { return now_; }, std::move(grant_key),
        [this](const std::string& line) { log_.push_back(line); });
    service_->restore();
  }
  void run_until(const std::function<bool()>& done, TimeMs limit_ms = 120000) {
    TimeMs end = now_ + limit_ms;
    while (!done() && now_ < end) {
      now_ += 10;
      service_->run_once();
      fleet_->step(*service_, static_cast<uint32_t>(now_));
    }
  }
  RolloutState state(int64_t id) { return service_->get(id, false).record.state; }
  bool stopped(int64_t id) {
    auto s = state(id);
    return s != RolloutState::kRunning && s != RolloutState::kRollingBack;
  }
  RolloutRequest request(const char* canary, const char* waves, const char* failures) {
    RolloutRequest r;
    r.model_id = 21;
    r.version = 2;
    r.canary = canary;
    r.waves = waves;
    r.max_failures = failures;
    r.node_timeout = "20s";
    r.gate.enabled = false;
    return r;
  }

  fs::path dir_;
  TimeMs now_ = 1'000'000;
  uint64_t rate_ = 4u << 20;
  uint32_t chunk_ = 0;  // the OTA server's chunk size (0: its default)
  ota::SigningKey key_ = ota::SigningKey::generate();
  ota::SigningKey rollback_key_ = ota::SigningKey::generate();  // the gateway's: grants only
  ota::Package v1_, v2_;
  std::unique_ptr<SimFleet> fleet_ = nullptr;
  std::unique_ptr<RolloutStore> store_;
  std::unique_ptr<ModelRegistry> registry_;
  std::unique_ptr<RolloutService> service_;
  std::vector<std::string> log_;
};

class ServiceWithFleet : public RolloutServiceTest {
 protected:
  void SetUp() override {
    fleet_ = std::make_unique<SimFleet>(key_, testing::sim_package(key_, 1, kPayload), 30, "host-sim", &rollback_key_);
    RolloutServiceTest::SetUp();
  }

  // A canary of 3, then 100 %, gated on 60 results a side after a 5 s soak. Every tick each node
  // reports the same answers whatever model it runs; `also(node_id, node, tick)` adds the rest.
  int64_t run_gated_rollout(const std::function<void(const std::string&, SimNode&, uint32_t)>& also) {
    RolloutRequest r = request("3", "100", "0");
    r.soak = "5s";
    r.gate.enabled = true;
    r.gate.min_samples = 60;
    const int64_t id = service_->start(r).record.id;
    uint32_t t = 0;
    run_until([&] {
      for (auto& [nid, node] : fleet_->all()) {
        fleet_->results.push_back({nid, 21, node->version(), t % 5, 200, 4000, 0});
        also(nid, *node, t);
      }
      ++t;
      return stopped(id);
    });
    return id;
  }

  // The gate paused rollout `id` on the error-rate bound; abort with rollback brings v1 back.
  void expect_error_bound_paused_then_roll_back(int64_t id) {
    RolloutView view = service_->get(id, false);
    ASSERT_EQ(view.record.state, RolloutState::kPaused) << view.record.reason;
    EXPECT_NE(view.record.reason.find("error_rate_increase"), std::string::npos) << view.record.reason;
    EXPECT_NE(view.record.reason.find("canary"), std::string::npos) << view.record.reason;
    service_->abort(id, true);
    run_until([&] { return stopped(id); });
    ASSERT_EQ(state(id), RolloutState::kRolledBack);
  }

  void expect_completed(int64_t id) {
    RolloutView view = service_->get(id, false);
    ASSERT_EQ(view.record.state, RolloutState::kCompleted) << view.record.reason << " / " << view.record.gate_message;
  }
};

TEST_F(ServiceWithFleet, CanaryThenWavesActivateEveryNodeWithAboutOnePayloadOnTheWire) {
  service_->upload_model(ota::encode_package(v2_));
  int64_t id = service_->start(request("3", "50,100", "0")).record.id;
  run_until([&] { return stopped(id); });
  RolloutView view = service_->get(id, true);
  ASSERT_EQ(view.record.state, RolloutState::kCompleted) << view.record.reason;
  EXPECT_EQ(view.counts[NodeState::kActivated], 30u);
  for (auto& [nid, node] : fleet_->all()) EXPECT_EQ(node->version(), 2u) << nid;
  TimeMs canary_done = 0, wave_start = INT64_MAX;
  for (const auto& n : view.nodes) {
    if (n.phase == 0)
      canary_done = std::max(canary_done, n.finished_at);
    else
      wave_start = std::min(wave_start, n.offered_at);
  }
  EXPECT_LT(canary_done, wave_start);
  // Every node got the payload once: chunk payload bytes == payload size, little overhead.
  for (const auto& [nid, stats] : service_->all_wire_stats()) {
    EXPECT_EQ(stats.chunk_payload_bytes, kPayload) << nid;
    EXPECT_LT(stats.downlink_bytes, kPayload * 1.2) << nid;
  }
  // The JSON the API serves carries the phase table.
  auto json = to_json(view);
  EXPECT_EQ(json["phases"].size(), 3u);
  EXPECT_EQ(json["phases"][0]["name"], "canary");
  EXPECT_EQ(json["counts"]["activated"], 30);
}

TEST_F(ServiceWithFleet, UnsupportedHardwarePausesAtTheCanaryAndOthersAreNeverOffered) {
  auto bad = testing::sim_package(key_, 2, kPayload, {"mps2-an386"});
  service_->upload_model(ota::encode_package(bad));
  int64_t id = service_->start(request("5", "25,50,100", "2%")).record.id;
  run_until([&] { return stopped(id); });
  RolloutView view = service_->get(id, true);
  ASSERT_EQ(view.record.state, RolloutState::kPaused);
  EXPECT_NE(view.record.reason.find("wrong_hardware"), std::string::npos) << view.record.reason;
  EXPECT_NE(view.record.reason.find("canary"), std::string::npos) << view.record.reason;
  for (const auto& n : view.nodes) {
    if (n.phase > 0) {
      EXPECT_EQ(fleet_->node(n.node_id).offers, 0) << n.node_id;
    }
    EXPECT_EQ(fleet_->node(n.node_id).version(), 1u);
  }
}

TEST_F(ServiceWithFleet, GatewayRestartMidWaveCompletesWithoutRestartingDownloads) {
  rate_ = 50000;  // slow enough that downloads are caught in the middle
  open();
  service_->upload_model(ota::encode_package(v2_));
  RolloutRequest r = request("3", "50,100", "0");
  r.max_concurrent = 30;
  int64_t id = service_->start(r).record.id;
  // Run until some wave-1 nodes are mid-download.
  run_until([&] {
    auto v = service_->get(id, true);
    for (const auto& n : v.nodes) {
      if (n.phase == 1 && n.state == NodeState::kDownloading) return true;
    }
    return false;
  });
  ASSERT_EQ(state(id), RolloutState::kRunning);
  // Let the transfers get going; then the gateway goes away: queued chunks are lost, the nodes
  // keep their journals.
  run_until([] { return false; }, 500);
  size_t mid = 0;
  for (auto& [nid, node] : fleet_->all()) mid += node->client->busy() ? 1 : 0;
  EXPECT_GT(mid, 0u) << "no node was mid-download at the restart";
  open();
  for (auto& [nid, node] : fleet_->all()) node->inbox.clear();
  run_until([&] { return stopped(id); });
  RolloutView view = service_->get(id, false);
  ASSERT_EQ(view.record.state, RolloutState::kCompleted) << view.record.reason;
  for (auto& [nid, node] : fleet_->all()) {
    EXPECT_EQ(node->version(), 2u) << nid;
    // Resumed, not restarted: at most the chunks lost in flight (one window) come twice.
    EXPECT_LE(node->chunk_bytes_received, kPayload + 4 * 512) << nid << " downloaded more than once";
  }
}

TEST_F(ServiceWithFleet, AbortWithRollbackReturnsEveryUpdatedNodeToThePreviousVersion) {
  service_->upload_model(ota::encode_package(v2_));
  int64_t id = service_->start(request("3", "50,100", "0")).record.id;
  run_until([&] { return service_->get(id, false).counts[NodeState::kActivated] >= 10; });
  // A replay of the old package alone (no grant) is refused by a node on v2: anti-rollback holds.
  testing::SimNode& updated = fleet_->node("n000");
  ASSERT_EQ(updated.version(), 2u);
  ota::ChunkServer replay(v1_, 512);
  updated.client->on_offer(replay.offer().payload.offer, 0);
  ASSERT_FALSE(updated.outbox.empty());
  EXPECT_EQ(updated.outbox.back().payload.ota_status.state, tinyedge_v1_OtaState_OTA_REFUSED);
  EXPECT_EQ(updated.outbox.back().payload.ota_status.reason, tinyedge_v1_OtaReason_OTA_ROLLBACK);
  updated.outbox.clear();
  EXPECT_EQ(updated.version(), 2u);
  RolloutView aborted = service_->abort(id, true);
  EXPECT_EQ(aborted.record.state, RolloutState::kRollingBack);
  run_until([&] { return stopped(id); });
  RolloutView view = service_->get(id, true);
  ASSERT_EQ(view.record.state, RolloutState::kRolledBack) << view.record.reason;
  for (auto& [nid, node] : fleet_->all()) EXPECT_EQ(node->version(), 1u) << nid;
}

// The safe setup: the gateway holds a rollback-only key. A package that key signs is neither
// accepted by the registry nor installed by a node; a gateway given the fleet key instead is refused.
TEST_F(ServiceWithFleet, TheRollbackKeySignsGrantsOnlyAndMustNotBeTheFleetKey) {
  const ota::Package by_rollback_key = testing::sim_package(rollback_key_, 3, kPayload);
  try {
    service_->upload_model(ota::encode_package(by_rollback_key));
    FAIL() << "the registry accepted a package signed by the rollback key";
  } catch (const RolloutApiError& e) {
    EXPECT_NE(std::string(e.what()).find("does not trust"), std::string::npos) << e.what();
  }
  testing::SimNode& node = fleet_->node("n001");
  ota::ChunkServer offer(by_rollback_key, 512);
  node.client->on_offer(offer.offer().payload.offer, 0);
  ASSERT_FALSE(node.outbox.empty());
  EXPECT_EQ(node.outbox.back().payload.ota_status.state, tinyedge_v1_OtaState_OTA_REFUSED);
  EXPECT_EQ(node.outbox.back().payload.ota_status.reason, tinyedge_v1_OtaReason_OTA_UNKNOWN_KEY);
  EXPECT_EQ(node.version(), 1u);

  // A gateway configured with the fleet's private key as its rollback key does not start.
  try {
    RolloutService unsafe(
        *store_, *registry_, *fleet_, RolloutServiceConfig{}, [this] { return now_; },
        ota::SigningKey::from_pem(key_.private_pem()));
    FAIL() << "a rollback key that is the fleet key was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("is a fleet key"), std::string::npos) << e.what();
  }
}

TEST_F(ServiceWithFleet, RollbackNeedsASigningKey) {
  open(false);
  service_->upload_model(ota::encode_package(v2_));
  int64_t id = service_->start(request("3", "100", "0")).record.id;
  run_until([&] { return stopped(id); });
  try {
    service_->abort(id, true);
    FAIL() << "rollback without a grant key";
  } catch (const RolloutApiError& e) {
    EXPECT_EQ(e.kind(), RolloutApiError::Kind::kConflict);
    EXPECT_NE(std::string(e.what()).find("signing key"), std::string::npos) << e.what();
  }
  EXPECT_EQ(state(id), RolloutState::kCompleted);
}

TEST_F(ServiceWithFleet, QualityGateStopsAPermutedModelAtTheCanaryAndPassesAGoodOne) {
  service_->upload_model(ota::encode_package(v2_));
  for (bool permuted : {true, false}) {
    RolloutRequest r = request("3", "100", "0");
    r.soak = "5s";
    r.gate.enabled = true;
    r.gate.min_samples = 60;
    int64_t id = service_->start(r).record.id;
    // Every node reports a replayed, labelled data set: node i sees sample (t + i) % 50.
    uint32_t t = 0;
    run_until([&] {
      for (auto& [nid, node] : fleet_->all()) {
        uint32_t sample = 1 + (t + static_cast<uint32_t>(nid.back())) % 50;
        uint32_t truth = sample % 7 == 0 ? 3 : sample % 5;
        bool updated = node->version() == 2;
        uint32_t label = updated && permuted ? (truth + 1) % 5 : truth;
        fleet_->results.push_back({nid, 21, node->version(), label, 200, 4000, sample});
      }
      ++t;
      return stopped(id);
    });
    RolloutView view = service_->get(id, true);
    if (permuted) {
      ASSERT_EQ(view.record.state, RolloutState::kPaused) << view.record.reason;
      EXPECT_NE(view.record.reason.find("quality gate"), std::string::npos) << view.record.reason;
      EXPECT_NE(view.record.reason.find("canary"), std::string::npos) << view.record.reason;
      EXPECT_EQ(view.counts[NodeState::kActivated], 3u);
      // Put the fleet back for the second round.
      service_->abort(id, true);
      run_until([&] { return stopped(id); });
      ASSERT_EQ(state(id), RolloutState::kRolledBack);
    } else {
      ASSERT_EQ(view.record.state, RolloutState::kCompleted) << view.record.reason << " / " << view.record.gate_message;
      EXPECT_EQ(view.counts[NodeState::kActivated], 30u);
    }
  }
}

TEST_F(ServiceWithFleet, CanaryNodesThatKeepRebootingTripTheErrorBound) {
  service_->upload_model(ota::encode_package(v2_));
  // Round 1: nodes on v2 restart every 5 ticks (a new boot id in their Hello); round 2: they
  // only reconnect (same boot id), which is not an error. Both rounds: the same answers as v1.
  std::map<std::string, uint32_t> boot;
  for (bool crashing : {true, false}) {
    const int64_t id = run_gated_rollout([&](const std::string& nid, SimNode& node, uint32_t t) {
      if (node.version() != 2 || t % 5 != 0) return;
      tinyedge_v1_Uplink hello = tinyedge_v1_Uplink_init_zero;
      hello.which_payload = tinyedge_v1_Uplink_hello_tag;
      hello.boot_id = crashing ? ++boot[nid] : boot[nid];
      hello.payload.hello.model_id = 21;
      hello.payload.hello.model_version = 2;
      service_->on_uplink(nid, hello);
    });
    if (crashing) {
      expect_error_bound_paused_then_roll_back(id);
    } else {
      expect_completed(id);
    }
  }
}

TEST_F(ServiceWithFleet, FailedInferencesReportedInTelemetryTripTheErrorBound) {
  service_->upload_model(ota::encode_package(v2_));
  // Every node reports Telemetry every 5 ticks. Round 1: on v2, 2 inferences fail for every 5
  // that give results (failed_inferences grows, same boot); round 2: the count stays where it was.
  std::map<std::string, uint32_t> failed;
  for (bool failing : {true, false}) {
    const int64_t id = run_gated_rollout([&](const std::string& nid, SimNode& node, uint32_t t) {
      if (failing && node.version() == 2 && t % 5 < 2) ++failed[nid];
      if (t % 5 != 4) return;
      tinyedge_v1_Uplink telemetry = tinyedge_v1_Uplink_init_zero;
      telemetry.which_payload = tinyedge_v1_Uplink_telemetry_tag;
      telemetry.payload.telemetry.failed_inferences = failed[nid];
      service_->on_uplink(nid, telemetry);
    });
    if (failing) {
      expect_error_bound_paused_then_roll_back(id);
    } else {
      expect_completed(id);
    }
  }
}

TEST_F(ServiceWithFleet, BadRequestsAreRefusedAndChangeNothing) {
  service_->upload_model(ota::encode_package(v2_));
  auto expect_error = [&](RolloutRequest r, RolloutApiError::Kind kind, const char* words) {
    try {
      service_->start(r);
      ADD_FAILURE() << "accepted: " << words;
    } catch (const RolloutApiError& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  RolloutRequest r = request("3", "100", "0");
  r.version = 9;
  expect_error(r, RolloutApiError::Kind::kNotFound, "not in the registry");
  r = request("3", "50,20", "0");
  expect_error(r, RolloutApiError::Kind::kBadRequest, "waves");
  r = request("3", "100", "0");
  r.target = "group:nowhere";
  expect_error(r, RolloutApiError::Kind::kBadRequest, "nowhere");
  r.target = "nodes:n001,ghost";
  expect_error(r, RolloutApiError::Kind::kBadRequest, "ghost");
  r.target = "everything";
  expect_error(r, RolloutApiError::Kind::kBadRequest, "expected all");
  r = request("3", "100", "0");
  r.soak = "3 fortnights";
  expect_error(r, RolloutApiError::Kind::kBadRequest, "soak");
  EXPECT_TRUE(service_->list().empty());
  EXPECT_THROW(service_->get(42, false), RolloutApiError);
  EXPECT_THROW(service_->pause(42), RolloutApiError);
  // One rollout per model at a time.
  int64_t id = service_->start(request("3", "100", "0")).record.id;
  expect_error(request("3", "100", "0"), RolloutApiError::Kind::kConflict, "still");
  service_->pause(id);
  EXPECT_THROW(service_->pause(id), RolloutApiError);
  service_->resume(id);
  EXPECT_THROW(service_->resume(id), RolloutApiError);
  // Uploads: the same package twice is a conflict, junk is a bad request.
  try {
    service_->upload_model(ota::encode_package(v2_));
    ADD_FAILURE();
  } catch (const RolloutApiError& e) {
    EXPECT_EQ(e.kind(), RolloutApiError::Kind::kConflict);
  }
  std::vector<uint8_t> junk(100, 7);
  EXPECT_THROW(service_->upload_model(junk), RolloutApiError);
  EXPECT_EQ(service_->models().size(), 2u);
}

TEST_F(ServiceWithFleet, GroupTargetOnlyTouchesThatGroup) {
  for (auto& [nid, node] : fleet_->all()) {
    if (nid < "n010") node->groups = {"factory-a"};
  }
  service_->upload_model(ota::encode_package(v2_));
  RolloutRequest r = request("2", "100", "0");
  r.target = "group:factory-a";
  int64_t id = service_->start(r).record.id;
  run_until([&] { return stopped(id); });
  EXPECT_EQ(state(id), RolloutState::kCompleted);
  for (auto& [nid, node] : fleet_->all()) EXPECT_EQ(node->version(), nid < "n010" ? 2u : 1u) << nid;
}

// sim_package's model, compressed on the wire (PAYLOAD_LZ_BLOCKS).
ota::Package compressed_sim_package(const ota::SigningKey& key, uint32_t version) {
  ota::PackageSpec spec;
  spec.model_id = 21;
  spec.version = version;
  spec.model_name = "sim";
  spec.payload.resize(kPayload);  // zero rows between rows of small weights: what compresses
  for (size_t i = 0; i < kPayload; ++i) {
    spec.payload[i] = (i / 64) % 2 ? static_cast<uint8_t>((i * 7 + version) % 5) : 0;
  }
  testing::stamp_tem_identity(spec.payload, spec.model_id, version);
  spec.arena_bytes = 1024;
  spec.self_test_input = {1, 2, 3, 4};
  spec.self_test_output_sha256 = testing::HashingSelfTest::expected(spec.payload, spec.self_test_input);
  spec.created_at = 1700000000 + version;
  spec.encoding = tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_BLOCKS;
  return ota::create_package(spec, key);
}

// Compressed packages through the gateway: the registry checks the decoded bytes, nodes fetch the
// encoded wire, and a rollback to a compressed version is granted for its installed digest (the
// one the node holds), not for its wire bytes.
TEST_F(ServiceWithFleet, CompressedPackagesRollOutWithFewerBytesAndRollBackToACompressedVersion) {
  const ota::Package c2 = compressed_sim_package(key_, 2), c3 = compressed_sim_package(key_, 3);
  ASSERT_LT(c2.payload.size(), kPayload / 2);
  service_->upload_model(ota::encode_package(c2));
  const int64_t first = service_->start(request("3", "100", "0")).record.id;
  run_until([&] { return stopped(first); });
  ASSERT_EQ(state(first), RolloutState::kCompleted) << service_->get(first, false).record.reason;
  for (auto& [nid, node] : fleet_->all()) EXPECT_EQ(node->version(), 2u) << nid;
  for (const auto& [nid, stats] : service_->all_wire_stats()) {
    EXPECT_EQ(stats.chunk_payload_bytes, c2.payload.size()) << nid << ": the compressed wire, once";
  }

  service_->upload_model(ota::encode_package(c3));
  RolloutRequest r = request("3", "50,100", "0");
  r.version = 3;
  const int64_t second = service_->start(r).record.id;
  run_until([&] { return service_->get(second, false).counts[NodeState::kActivated] >= 5; });
  service_->abort(second, true);
  run_until([&] { return stopped(second); });
  RolloutView view = service_->get(second, true);
  ASSERT_EQ(view.record.state, RolloutState::kRolledBack) << view.record.reason;
  for (auto& [nid, node] : fleet_->all()) EXPECT_EQ(node->version(), 2u) << nid;
}

// Nodes on two bases, v1 and v1b (registered as v2), and one whose v1 is not the registered v1;
// the registry holds v3 in full and as a delta from v1.
class DeltaRollout : public ServiceWithFleet {
 protected:
  void SetUp() override {
    ServiceWithFleet::SetUp();
    v3_ = payload_package(key_, 3, head_changed(v1_, 1));
    delta_ = payload_package(key_, 3, v3_.payload, v1_.payload);
    const ota::Package liar_factory = payload_package(key_, 1, head_changed(v1_, 9));
    SimNode& any = fleet_->node("n000");
    for (const char* id : {"n020", "n021", "n022", "n023", "n024"})
      fleet_->all()[id] = std::make_unique<SimNode>(id, "host-sim", any.trusted, v2_, any.trusted_rollback);
    fleet_->all()["n029"] =
        std::make_unique<SimNode>("n029", "host-sim", any.trusted, liar_factory, any.trusted_rollback);
    service_->upload_model(ota::encode_package(v2_));
  }
  static bool on_v1b(const std::string& id) { return id >= "n020" && id <= "n024"; }
  size_t delta_count() { return store_->deltas().size(); }

  ota::Package v3_, delta_;
};

// The registry takes a delta only beside the full package of its version, checked against a
// registered base by the same verification as `package verify`; every refusal names its reason
// and stores nothing.
TEST_F(DeltaRollout, TheRegistryKeepsADeltaBesideItsFullPackageAndRefusesBadOnes) {
  using Kind = RolloutApiError::Kind;
  auto refused = [&](const ota::Package& package, Kind kind, const std::string& words) {
    try {
      service_->upload_model(ota::encode_package(package));
      ADD_FAILURE() << "accepted; expected a refusal naming '" << words << "'";
    } catch (const RolloutApiError& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
    EXPECT_EQ(delta_count(), 0u) << "a refused delta was stored";
  };
  refused(delta_, Kind::kBadRequest, "upload the full package of model 21 v3 first");
  service_->upload_model(ota::encode_package(v3_));
  // Against a base the registry does not hold (the liar's model): nothing to check it with.
  refused(payload_package(key_, 3, v3_.payload, head_changed(v1_, 9)), Kind::kBadRequest, "not in the registry");
  // Installs other bytes than the full v3: a node would end on another model by the delta.
  refused(payload_package(key_, 3, head_changed(v1_, 5), v1_.payload), Kind::kBadRequest, "other bytes");
  ota::Package tampered = delta_;
  tampered.payload[tampered.payload.size() / 2] ^= 0x10;
  refused(tampered, Kind::kBadRequest, "package ");
  ota::SigningKey stranger = ota::SigningKey::generate();
  refused(payload_package(stranger, 3, v3_.payload, v1_.payload), Kind::kBadRequest, "unknown signing key");

  const ModelRow row = service_->upload_model(ota::encode_package(delta_));
  EXPECT_EQ(row.version, 3u);
  ASSERT_EQ(row.deltas.size(), 1u);
  EXPECT_EQ(row.deltas[0].base_version, 1u);
  EXPECT_EQ(row.deltas[0].wire_size, delta_.payload.size());
  try {
    service_->upload_model(ota::encode_package(delta_));
    ADD_FAILURE() << "the same delta registered twice";
  } catch (const RolloutApiError& e) {
    EXPECT_EQ(e.kind(), Kind::kConflict) << e.what();
  }
  // Listed under v3 (the API's JSON too), nowhere else.
  for (const ModelRow& m : service_->models()) {
    EXPECT_EQ(m.deltas.size(), m.version == 3 ? 1u : 0u) << "v" << m.version;
    if (m.version != 3) continue;
    const auto json = to_json(m);
    ASSERT_EQ(json["deltas"].size(), 1u) << json.dump();
    EXPECT_EQ(json["deltas"][0]["base_version"], 1);
    EXPECT_EQ(json["deltas"][0]["wire_size"], delta_.payload.size());
  }
}

// Each node is offered the delta whose base it runs, the full package otherwise; the node whose
// v1 is not the registered v1 refuses the delta before fetching anything and gets the full
// package next, and the log says so. Everyone ends on v3.
TEST_F(DeltaRollout, NodesOnTheBaseGetTheDeltaOthersTheFullPackageAndAMismatchFallsBack) {
  service_->upload_model(ota::encode_package(v3_));
  service_->upload_model(ota::encode_package(delta_));
  ASSERT_LT(delta_.payload.size(), kPayload / 4) << "the test needs a delta much smaller than the model";
  RolloutRequest r = request("3", "100", "0");
  r.version = 3;
  const int64_t id = service_->start(r).record.id;
  run_until([&] { return stopped(id); });
  RolloutView view = service_->get(id, true);
  ASSERT_EQ(view.record.state, RolloutState::kCompleted) << view.record.reason;
  EXPECT_EQ(view.counts[NodeState::kActivated], 30u);
  const auto wire = service_->all_wire_stats();
  for (auto& [nid, node] : fleet_->all()) {
    EXPECT_EQ(node->version(), 3u) << nid;
    const uint64_t expected = nid == "n029" || on_v1b(nid) ? kPayload : delta_.payload.size();
    EXPECT_EQ(wire.at(nid).chunk_payload_bytes, expected) << nid
                                                          << (on_v1b(nid)     ? " (on v1b)"
                                                              : nid == "n029" ? " (claims v1, runs other bytes)"
                                                                              : " (on v1)");
  }
  EXPECT_EQ(wire.at("n029").offers, 2u) << "the delta, refused, then the full package";
  size_t fallbacks = 0;
  for (const std::string& line : log_) {
    if (line.find("refused the delta") == std::string::npos) continue;
    ++fallbacks;
    EXPECT_NE(line.find("n029"), std::string::npos) << line;
    EXPECT_NE(line.find("full package"), std::string::npos) << line;
  }
  EXPECT_EQ(fallbacks, 1u) << "one node refused a delta";
}

// A node's Hello says v1 while its row in the node table shows no model yet (the store writes in
// batches): the node table's poll must not undo what the Hello said, so the nodes still get the
// delta. (With the table's view put over the Hello, they were offered the full package.)
TEST_F(DeltaRollout, AHelloStandsAgainstANodeTableThatHasNotCaughtUp) {
  service_->upload_model(ota::encode_package(v3_));
  service_->upload_model(ota::encode_package(delta_));
  const std::vector<std::string> lagging{"n000", "n001", "n002"};
  for (const std::string& nid : lagging) {
    fleet_->table_knows_no_model.insert(nid);
    tinyedge_v1_Uplink hello = tinyedge_v1_Uplink_init_zero;
    hello.which_payload = tinyedge_v1_Uplink_hello_tag;
    hello.payload.hello.model_id = 21;
    hello.payload.hello.model_version = 1;
    service_->on_uplink(nid, hello);
  }
  // Several node-table polls (every 50 ms here) while the rows still show no model.
  for (int i = 0; i < 5; ++i) {
    now_ += 60;
    service_->run_once();
  }
  RolloutRequest r = request("1", "100", "0");
  r.version = 3;
  r.target = "nodes:n000,n001,n002";
  const int64_t id = service_->start(r).record.id;
  run_until([&] { return stopped(id); });
  ASSERT_EQ(state(id), RolloutState::kCompleted) << service_->get(id, false).record.reason;
  const auto wire = service_->all_wire_stats();
  for (const std::string& nid : lagging) {
    EXPECT_EQ(fleet_->node(nid).version(), 3u) << nid;
    EXPECT_EQ(wire.at(nid).chunk_payload_bytes, delta_.payload.size())
        << nid << " said it runs v1 (the delta's base) but was not offered the delta";
  }
}

// The gateway restarts while a node is half way through the delta, and hears the node's next chunk
// request before it sees the node online again (so before any offer is made again): the rest of
// the delta is served, not the full package's bytes at the delta's offsets, and the offer made
// again is the same delta. (The restarted gateway used to serve the full package until it
// offered again.)
TEST_F(DeltaRollout, AGatewayRestartedMidDeltaServesTheRestOfTheDelta) {
  // v4: v1 with 2,600 bytes in the middle retrained (noise), so that its delta spans several wire
  // blocks and is still well under the full package.
  std::vector<uint8_t> changed = v1_.payload;
  uint32_t noise = 0x9e3779b9u;
  for (size_t i = 1000; i < 3600; ++i) {
    noise ^= noise << 13, noise ^= noise >> 17, noise ^= noise << 5;
    changed[i] = static_cast<uint8_t>(noise);
  }
  const ota::Package v4 = payload_package(key_, 4, changed);
  const ota::Package delta = payload_package(key_, 4, v4.payload, v1_.payload);
  const uint32_t block = ota::manifest_of(delta).wire_block_bytes;
  ASSERT_LT(delta.payload.size(), kPayload / 2);
  ASSERT_GT(delta.payload.size(), 3 * block) << "the test needs a delta of several wire blocks";
  service_->upload_model(ota::encode_package(v4));
  service_->upload_model(ota::encode_package(delta));
  rate_ = 4 * block;  // about a block every 250 ms
  chunk_ = block;
  open();
  RolloutRequest r = request("1", "100", "0");
  r.version = 4;
  r.target = "nodes:n000";
  const int64_t id = service_->start(r).record.id;
  SimNode& node = fleet_->node("n000");
  run_until([&] { return node.chunk_bytes_received >= block; });
  ASSERT_TRUE(node.client->busy()) << "n000 is not mid-download";
  ASSERT_LT(node.chunk_bytes_received, delta.payload.size());
  open();  // the gateway restarts: what was queued or in flight is lost
  node.inbox.clear();
  fleet_->table_shows_offline.insert("n000");
  const size_t before = node.chunk_bytes_received;
  run_until([&] { return node.chunk_bytes_received > before; }, 10000);
  ASSERT_GT(node.chunk_bytes_received, before) << "the node's chunk request after the restart was never answered";
  EXPECT_EQ(service_->all_wire_stats()["n000"].offers, 0u) << "offered again before its chunk request was answered";
  fleet_->table_shows_offline.clear();
  run_until([&] { return stopped(id); });
  ASSERT_EQ(state(id), RolloutState::kCompleted) << service_->get(id, false).record.reason;
  EXPECT_EQ(node.version(), 4u);
  EXPECT_GE(node.chunk_bytes_received, delta.payload.size());
  EXPECT_LE(node.chunk_bytes_received, delta.payload.size() + 4 * block)
      << "n000 fetched more than the delta (" << delta.payload.size() << " bytes; full package " << kPayload
      << ") and a window of chunks lost in the restart";
  EXPECT_EQ(node.offers, 2) << "the delta, then the same delta again after the restart";
}

// A node refused the delta (its model is not the delta's base); the operator pauses the rollout and
// the gateway restarts before the node is offered the full package: after the resume it is offered
// the full package, not the delta again.
TEST_F(DeltaRollout, ARefusedDeltaIsNotOfferedAgainAfterARestart) {
  service_->upload_model(ota::encode_package(v3_));
  service_->upload_model(ota::encode_package(delta_));
  RolloutRequest r = request("1", "100", "0");
  r.version = 3;
  r.target = "nodes:n029";
  const int64_t id = service_->start(r).record.id;
  run_until([&] {
    const NodeRecord& n = service_->get(id, true).nodes.at(0);
    return n.full_only && n.state == NodeState::kPending;
  });
  ASSERT_EQ(fleet_->node("n029").offers, 1) << "the delta, refused";
  service_->pause(id);  // stores the node's record, before the full package is offered
  open();
  service_->resume(id);
  run_until([&] { return stopped(id); });
  ASSERT_EQ(state(id), RolloutState::kCompleted) << service_->get(id, false).record.reason;
  EXPECT_EQ(fleet_->node("n029").version(), 3u);
  EXPECT_EQ(fleet_->node("n029").offers, 2) << "after the restart the refused delta was offered again";
  EXPECT_EQ(service_->all_wire_stats()["n029"].chunk_payload_bytes, kPayload);
}

}  // namespace
}  // namespace tinyedge::rollout
