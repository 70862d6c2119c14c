// The rollout engine against an in-process fake fleet: nodes that answer offers one protocol step
// per simulated tick, some of them badly, on a clock the test owns.
#include "gateway/rollout/rollout_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "tinyedge.pb.h"

namespace tinyedge::rollout {
namespace {

constexpr uint32_t kModel = 7;
constexpr uint32_t kOld = 1;
constexpr uint32_t kNew = 2;
constexpr uint32_t kPayload = 4096;

struct FakeNode {
  bool online = true;
  uint32_t version = kOld;
  bool wrong_hardware = false;
  bool silent = false;         // never answers (for timeouts)
  bool offered = false;
  bool offered_rollback = false;
  uint32_t written = 0;
  uint32_t offers = 0;
  uint32_t bytes_from_zero = 0;  // how many times a download started at offset 0
};

class FakeFleet {
 public:
  FakeFleet(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "n%03zu", i);
      nodes[id];
    }
  }
  std::vector<TargetNode> targets() const {
    std::vector<TargetNode> out;
    for (const auto& [id, node] : nodes) out.push_back({id, node.online, kModel, node.version});
    return out;
  }
  void apply(const std::vector<Action>& actions) {
    for (const auto& a : actions) {
      FakeNode& node = nodes.at(a.node_id);
      log.push_back((a.kind == Action::Kind::kOffer ? "offer " : "cancel ") + a.node_id);
      if (a.kind == Action::Kind::kOffer) {
        if (!node.online) throw std::runtime_error("offer sent to offline node " + a.node_id);
        ++node.offers;
        if (!node.offered && node.written == 0) ++node.bytes_from_zero;
        node.offered = true;
        node.offered_rollback = a.rollback;
      } else {
        node.offered = false;
        node.written = 0;
      }
    }
  }
  // One protocol step for every node with an offer.
  void step(RolloutEngine& engine, TimeMs now) {
    for (auto& [id, node] : nodes) {
      if (!node.offered || !node.online || node.silent) continue;
      tinyedge_v1_OtaStatus st = tinyedge_v1_OtaStatus_init_zero;
      st.model_id = kModel;
      st.version = node.offered_rollback ? kOld : kNew;
      st.total_bytes = kPayload;
      st.active_version = node.version;
      if (node.wrong_hardware) {
        st.state = tinyedge_v1_OtaState_OTA_REFUSED;
        st.reason = tinyedge_v1_OtaReason_OTA_WRONG_HARDWARE;
        node.offered = false;
      } else if (node.written < kPayload) {
        node.written += kPayload / 2;
        st.state = tinyedge_v1_OtaState_OTA_DOWNLOADING;
        st.bytes_written = node.written;
      } else {
        node.version = st.version;
        node.offered = false;
        node.written = 0;
        st.state = tinyedge_v1_OtaState_OTA_ACTIVATED;
        st.active_version = node.version;
      }
      engine.on_status(id, st, now);
    }
  }
  std::map<std::string, FakeNode> nodes;
  std::vector<std::string> log;
};

RolloutRecord make_record(const char* canary, const char* waves, const char* failures, int64_t soak_ms = 0) {
  RolloutRecord r;
  r.id = 1;
  r.package = {10, kModel, kNew};
  r.previous = {9, kModel, kOld};
  r.target = "all";
  r.strategy.canary = parse_count_or_percent(canary, "canary");
  r.strategy.waves = parse_waves(waves);
  r.strategy.max_failures = parse_count_or_percent(failures, "max-failures");
  r.strategy.soak_ms = soak_ms;
  r.strategy.max_concurrent = 100;
  r.strategy.node_timeout_ms = 5000;
  r.strategy.gate.enabled = false;
  return r;
}

// Runs until the rollout stops running (or `limit` ticks), 100 ms per tick.
TimeMs run(RolloutEngine& engine, FakeFleet& fleet, TimeMs now, int limit = 1000) {
  for (int i = 0; i < limit; ++i) {
    fleet.apply(engine.tick(now));
    auto s = engine.record().state;
    if (s != RolloutState::kRunning && s != RolloutState::kRollingBack) break;
    fleet.step(engine, now);
    now += 100;
  }
  return now;
}

size_t count(const RolloutEngine& e, NodeState state) {
  size_t n = 0;
  for (const auto& node : e.nodes()) n += node.state == state ? 1 : 0;
  return n;
}

TEST(RolloutEngine, CanaryThenWavesActivatesEveryNodeInOrder) {
  FakeFleet fleet(100);
  auto engine = RolloutEngine::create(make_record("5", "25,50,100", "2%"), fleet.targets(), 0);
  EXPECT_EQ(engine.record().phase_ends, (std::vector<uint32_t>{5, 25, 50, 100}));
  // First tick: only the canary is offered.
  fleet.apply(engine.tick(0));
  EXPECT_EQ(fleet.log.size(), 5u);
  run(engine, fleet, 100);
  EXPECT_EQ(engine.record().state, RolloutState::kCompleted) << engine.record().reason;
  EXPECT_EQ(count(engine, NodeState::kActivated), 100u);
  for (const auto& [id, node] : fleet.nodes) EXPECT_EQ(node.version, kNew) << id;
  // Every canary node finished before the first wave node was offered.
  TimeMs canary_done = 0, wave1_first_offer = INT64_MAX;
  for (const auto& node : engine.nodes()) {
    if (node.phase == 0) canary_done = std::max(canary_done, node.finished_at);
    else wave1_first_offer = std::min(wave1_first_offer, node.offered_at);
  }
  EXPECT_LT(canary_done, wave1_first_offer);
  // Waves follow each other the same way.
  for (uint32_t p = 1; p < 3; ++p) {
    TimeMs done = 0, next = INT64_MAX;
    for (const auto& node : engine.nodes()) {
      if (node.phase == p) done = std::max(done, node.finished_at);
      if (node.phase == p + 1) next = std::min(next, node.offered_at);
    }
    EXPECT_LE(done, next) << "phase " << p;
  }
}

TEST(RolloutEngine, MaxConcurrentBoundsTransfers) {
  FakeFleet fleet(40);
  auto record = make_record("0", "100", "0");
  record.strategy.max_concurrent = 7;
  auto engine = RolloutEngine::create(record, fleet.targets(), 0);
  TimeMs now = 0;
  for (int i = 0; i < 200 && engine.record().state == RolloutState::kRunning; ++i, now += 100) {
    fleet.apply(engine.tick(now));
    size_t flying = 0;
    for (const auto& node : engine.nodes()) flying += is_in_flight(node.state) ? 1 : 0;
    ASSERT_LE(flying, 7u);
    fleet.step(engine, now);
  }
  EXPECT_EQ(count(engine, NodeState::kActivated), 40u);
}

TEST(RolloutEngine, FailuresInCanaryPauseAndLaterWavesAreNeverOffered) {
  FakeFleet fleet(100);
  for (auto& [id, node] : fleet.nodes) node.wrong_hardware = (id.back() - '0') % 2 == 1;  // odd ids
  auto engine = RolloutEngine::create(make_record("5", "25,50,100", "2%"), fleet.targets(), 0);
  run(engine, fleet, 0);
  ASSERT_EQ(engine.record().state, RolloutState::kPaused);
  EXPECT_NE(engine.record().reason.find("failure threshold"), std::string::npos) << engine.record().reason;
  EXPECT_NE(engine.record().reason.find("wrong_hardware"), std::string::npos) << engine.record().reason;
  EXPECT_NE(engine.record().reason.find("canary"), std::string::npos) << engine.record().reason;
  for (const auto& node : engine.nodes()) {
    if (node.phase > 0) {
      EXPECT_EQ(node.state, NodeState::kPending) << node.node_id;
      EXPECT_EQ(fleet.nodes[node.node_id].offers, 0u) << node.node_id;
    }
  }
  // Paused stays paused: ticks offer nothing.
  fleet.log.clear();
  fleet.apply(engine.tick(100000));
  EXPECT_TRUE(fleet.log.empty());
}

TEST(RolloutEngine, ResumeAcceptsPastFailuresButNotNewOnes) {
  FakeFleet fleet(20);
  fleet.nodes["n001"].wrong_hardware = true;
  fleet.nodes["n015"].wrong_hardware = true;
  auto engine = RolloutEngine::create(make_record("5", "100", "0"), fleet.targets(), 0);
  TimeMs now = run(engine, fleet, 0);
  ASSERT_EQ(engine.record().state, RolloutState::kPaused) << engine.record().reason;
  engine.resume(now);
  now = run(engine, fleet, now);
  ASSERT_EQ(engine.record().state, RolloutState::kPaused) << "n015 fails in wave 1";
  EXPECT_NE(engine.record().reason.find("n015"), std::string::npos) << engine.record().reason;
  engine.resume(now);
  run(engine, fleet, now);
  EXPECT_EQ(engine.record().state, RolloutState::kCompleted) << engine.record().reason;
  EXPECT_EQ(count(engine, NodeState::kActivated), 18u);
  EXPECT_EQ(count(engine, NodeState::kRefused), 2u);
  EXPECT_THROW(engine.resume(now), std::logic_error);
}

TEST(RolloutEngine, OperatorPauseResumeAbort) {
  FakeFleet fleet(10);
  auto engine = RolloutEngine::create(make_record("2", "100", "0"), fleet.targets(), 0);
  fleet.apply(engine.tick(0));
  engine.pause("", 10);
  EXPECT_EQ(engine.record().state, RolloutState::kPaused);
  EXPECT_EQ(engine.record().reason, "paused by operator");
  EXPECT_THROW(engine.pause("", 11), std::logic_error);
  // In-flight nodes keep reporting while paused; nothing new is offered.
  fleet.step(engine, 20);
  fleet.step(engine, 30);
  fleet.step(engine, 40);
  fleet.log.clear();
  fleet.apply(engine.tick(50));
  EXPECT_TRUE(fleet.log.empty());
  EXPECT_EQ(count(engine, NodeState::kActivated), 2u);
  engine.resume(60);
  fleet.apply(engine.tick(60));
  EXPECT_EQ(fleet.log.size(), 8u);
  auto cancels = engine.abort(false, 70);
  EXPECT_EQ(cancels.size(), 8u);
  EXPECT_EQ(engine.record().state, RolloutState::kAborted);
  EXPECT_THROW(engine.abort(false, 80), std::logic_error);
  EXPECT_THROW(engine.resume(80), std::logic_error);
}

TEST(RolloutEngine, CancelledNodeStopsDownloadingKeepsItsModelAndTheRestActivate) {
  FakeFleet fleet(10);
  auto engine = RolloutEngine::create(make_record("2", "100", "0%"), fleet.targets(), 0);
  fleet.apply(engine.tick(0));
  fleet.step(engine, 10);  // the canary (n000, n001) is half way through its download
  const NodeRecord* n001 = engine.node("n001");
  ASSERT_EQ(n001->state, NodeState::kDownloading);
  fleet.log.clear();
  auto actions = engine.cancel_node("n001", 20);
  fleet.apply(actions);
  EXPECT_EQ(fleet.log, (std::vector<std::string>{"cancel n001"})) << "the downloading node is told to stop";
  EXPECT_EQ(n001->state, NodeState::kCancelled);
  EXPECT_NE(n001->reason.find("cancelled by operator while downloading (2048 of 4096 bytes)"), std::string::npos)
      << n001->reason;
  // A pending node (later wave) is taken out without a message to it.
  EXPECT_TRUE(engine.cancel_node("n009", 30).empty());
  EXPECT_EQ(engine.node("n009")->state, NodeState::kCancelled);
  auto dirty = engine.take_dirty_nodes();
  EXPECT_NE(std::find(dirty.begin(), dirty.end(), "n001"), dirty.end()) << "the cancel is persisted";
  run(engine, fleet, 100);
  EXPECT_EQ(engine.record().state, RolloutState::kCompleted) << engine.record().reason;
  EXPECT_EQ(engine.record().reason, "8 of 10 nodes activated, 2 cancelled");
  EXPECT_EQ(count(engine, NodeState::kActivated), 8u);
  EXPECT_EQ(fleet.nodes["n001"].version, kOld);
  EXPECT_EQ(fleet.nodes["n009"].version, kOld);
  EXPECT_EQ(fleet.nodes["n009"].offers, 0u) << "a cancelled pending node is never offered";
  // Cancelled is neither a failure nor an attempt: "0%" failures never paused.
  EXPECT_EQ(engine.failures(), 0u);
  EXPECT_EQ(engine.attempted(), 8u);
  EXPECT_EQ(engine.phases()[0].counts.at(NodeState::kCancelled), 1u);
}

TEST(RolloutEngine, CancelIsRefusedForActivatedEndedOrUnknownNodesAndChangesNothing) {
  FakeFleet fleet(4);
  fleet.nodes["n003"].wrong_hardware = true;
  auto engine = RolloutEngine::create(make_record("0", "100", "5"), fleet.targets(), 0);
  run(engine, fleet, 0);
  ASSERT_EQ(engine.record().state, RolloutState::kCompleted) << engine.record().reason;
  EXPECT_THROW(engine.cancel_node("n000", 10), std::logic_error) << "the rollout is over";

  FakeFleet fleet2(4);
  fleet2.nodes["n003"].wrong_hardware = true;
  fleet2.nodes["n002"].silent = true;
  auto running = RolloutEngine::create(make_record("0", "100", "5"), fleet2.targets(), 0);
  TimeMs now = 0;
  for (int i = 0; i < 5; ++i, now += 100) {
    fleet2.apply(running.tick(now));
    fleet2.step(running, now);
  }
  ASSERT_EQ(running.node("n000")->state, NodeState::kActivated);
  ASSERT_EQ(running.node("n003")->state, NodeState::kRefused);
  running.take_dirty_nodes();
  try {
    running.cancel_node("n000", now);
    ADD_FAILURE() << "an activated node was cancelled";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "node n000 has already activated v2: roll the rollout back (abort --rollback) to undo it");
  }
  try {
    running.cancel_node("n003", now);
    ADD_FAILURE() << "a refused node was cancelled";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("already ended refused (wrong_hardware)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(running.cancel_node("n404", now), std::out_of_range);
  EXPECT_EQ(running.node("n000")->state, NodeState::kActivated);
  EXPECT_EQ(running.node("n003")->state, NodeState::kRefused);
  EXPECT_TRUE(running.take_dirty_nodes().empty()) << "a refused cancel changes nothing";
  // A late status from a cancelled node does not bring it back.
  ASSERT_EQ(running.node("n002")->state, NodeState::kOffered);
  EXPECT_EQ(running.cancel_node("n002", now).size(), 1u);
  tinyedge_v1_OtaStatus st = tinyedge_v1_OtaStatus_init_zero;
  st.model_id = kModel;
  st.version = kNew;
  st.state = tinyedge_v1_OtaState_OTA_DOWNLOADING;
  running.on_status("n002", st, now + 1);
  EXPECT_EQ(running.node("n002")->state, NodeState::kCancelled);
}

TEST(RolloutEngine, AbortWithRollbackReturnsUpdatedNodesToThePreviousVersion) {
  FakeFleet fleet(30);
  auto engine = RolloutEngine::create(make_record("5", "50,100", "0"), fleet.targets(), 0);
  TimeMs now = 0;
  // Roll until the first wave is under way, then abort with rollback.
  for (; count(engine, NodeState::kActivated) < 10; now += 100) {
    fleet.apply(engine.tick(now));
    fleet.step(engine, now);
  }
  fleet.apply(engine.abort(true, now));
  EXPECT_EQ(engine.record().state, RolloutState::kRollingBack);
  now = run(engine, fleet, now + 100);
  EXPECT_EQ(engine.record().state, RolloutState::kRolledBack) << engine.record().reason;
  for (const auto& [id, node] : fleet.nodes) EXPECT_EQ(node.version, kOld) << id;
  size_t rolled = 0;
  for (const auto& node : engine.nodes()) rolled += node.rollback ? 1 : 0;
  EXPECT_GE(rolled, 10u);
}

TEST(RolloutEngine, RollbackWithoutPreviousPackageIsRefusedAndChangesNothing) {
  FakeFleet fleet(5);
  auto record = make_record("1", "100", "0");
  record.previous = {};
  auto engine = RolloutEngine::create(record, fleet.targets(), 0);
  fleet.apply(engine.tick(0));
  try {
    engine.abort(true, 10);
    FAIL() << "abort --rollback without a previous package";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("previous package"), std::string::npos) << e.what();
  }
  EXPECT_EQ(engine.record().state, RolloutState::kRunning);
}

TEST(RolloutEngine, OfflineNodesAreUpdatedWhenTheyReturnBeforeTheDeadline) {
  FakeFleet fleet(10);
  fleet.nodes["n003"].online = false;
  fleet.nodes["n008"].online = false;
  auto record = make_record("2", "100", "0");
  record.strategy.deadline_ms = 60000;
  auto engine = RolloutEngine::create(record, fleet.targets(), 0);
  TimeMs now = 0;
  for (int i = 0; i < 50; ++i, now += 100) {
    fleet.apply(engine.tick(now));
    fleet.step(engine, now);
  }
  EXPECT_EQ(engine.record().state, RolloutState::kRunning);
  EXPECT_NE(engine.record().reason.find("waiting for 2 offline"), std::string::npos) << engine.record().reason;
  EXPECT_EQ(count(engine, NodeState::kActivated), 8u);
  fleet.nodes["n003"].online = true;
  engine.on_online("n003", true, now);
  now = run(engine, fleet, now, 100);
  EXPECT_EQ(engine.node("n003")->state, NodeState::kActivated);
  EXPECT_EQ(engine.node("n008")->state, NodeState::kPending);
  // The last one never returns: the deadline times it out and the rollout completes.
  fleet.apply(engine.tick(60000));
  EXPECT_EQ(engine.node("n008")->state, NodeState::kTimedOut);
  EXPECT_EQ(engine.record().state, RolloutState::kCompleted);
  EXPECT_NE(engine.record().reason.find("deadline"), std::string::npos);
}

TEST(RolloutEngine, SilentNodeTimesOutAndCountsAsFailure) {
  FakeFleet fleet(4);
  fleet.nodes["n000"].silent = true;
  auto engine = RolloutEngine::create(make_record("1", "100", "0"), fleet.targets(), 0);
  fleet.apply(engine.tick(0));
  fleet.apply(engine.tick(5000));
  EXPECT_EQ(engine.node("n000")->state, NodeState::kOffered);
  auto actions = engine.tick(5001);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, Action::Kind::kCancel);
  EXPECT_EQ(engine.node("n000")->state, NodeState::kTimedOut);
  EXPECT_EQ(engine.record().state, RolloutState::kPaused);
}

TEST(RolloutEngine, DisconnectMidDownloadResumesWithoutStartingOver) {
  FakeFleet fleet(3);
  auto engine = RolloutEngine::create(make_record("0", "100", "0"), fleet.targets(), 0);
  fleet.apply(engine.tick(0));
  fleet.step(engine, 10);  // half written
  EXPECT_EQ(engine.node("n001")->state, NodeState::kDownloading);
  EXPECT_EQ(engine.node("n001")->bytes_written, kPayload / 2);
  fleet.nodes["n001"].online = false;
  engine.on_online("n001", false, 20);
  fleet.nodes["n001"].online = true;
  engine.on_online("n001", true, 30);
  fleet.apply(engine.tick(30));
  EXPECT_EQ(fleet.nodes["n001"].offers, 2u) << "re-offered after reconnecting";
  EXPECT_EQ(fleet.nodes["n001"].bytes_from_zero, 1u);
  run(engine, fleet, 40);
  EXPECT_EQ(engine.record().state, RolloutState::kCompleted);
}

TEST(RolloutEngine, RestoredFromRecordsCarriesOn) {
  FakeFleet fleet(20);
  auto engine = RolloutEngine::create(make_record("5", "50,100", "0"), fleet.targets(), 0);
  TimeMs now = 0;
  for (; count(engine, NodeState::kActivated) < 8; now += 100) {
    fleet.apply(engine.tick(now));
    fleet.step(engine, now);
  }
  // "Restart": rebuild from the records alone; online state is learned again from the bearer.
  RolloutEngine restored(engine.record(), engine.nodes(), now);
  for (const auto& [id, node] : fleet.nodes) restored.on_online(id, node.online, now);
  now = run(restored, fleet, now);
  EXPECT_EQ(restored.record().state, RolloutState::kCompleted) << restored.record().reason;
  for (const auto& [id, node] : fleet.nodes) {
    EXPECT_EQ(node.version, kNew) << id;
    EXPECT_EQ(node.bytes_from_zero, 1u) << id << " started from zero twice";
  }
}

// Another gateway led until now: its offers stand, so nodes in flight are not offered again (a
// gateway restart, by contrast, offers them again), yet the rollout still completes; a node that
// reconnects after the takeover is offered again so it resumes.
TEST(RolloutEngine, TakenOverFromAnotherLeaderKeepsItsOffers) {
  FakeFleet fleet(20);
  auto engine = RolloutEngine::create(make_record("5", "50,100", "0"), fleet.targets(), 0);
  TimeMs now = 0;
  // Until the last wave is half downloaded.
  for (; !(count(engine, NodeState::kActivated) >= 10 && count(engine, NodeState::kDownloading) > 0); now += 100) {
    fleet.apply(engine.tick(now));
    fleet.step(engine, now);
  }
  std::map<std::string, uint32_t> offers_before;
  for (const auto& [id, node] : fleet.nodes) offers_before[id] = node.offers;
  ASSERT_GT(count(engine, NodeState::kDownloading) + count(engine, NodeState::kOffered), 0u) << "nothing in flight";
  std::map<std::string, bool> online;
  for (const auto& [id, node] : fleet.nodes) online[id] = node.online;
  RolloutEngine successor(engine.record(), engine.nodes(), now);
  successor.take_over(online, now);
  for (const auto& [id, node] : fleet.nodes) successor.on_online(id, node.online, now);
  fleet.apply(successor.tick(now));
  for (const auto& [id, node] : fleet.nodes) {
    EXPECT_EQ(node.offers, offers_before[id]) << id << " in flight was offered again by the new leader";
  }
  // A node that stays silent (its last status went to the leader that died) is offered again
  // once, 5 s after the takeover; the others, still heard from, are not.
  const std::string silent = engine.nodes()[14].node_id;
  ASSERT_TRUE(is_in_flight(successor.node(silent)->state));
  fleet.nodes[silent].silent = true;
  for (TimeMs t = now; t <= now + 5000; t += 500) {
    fleet.apply(successor.tick(t));
    successor.on_status(engine.nodes()[13].node_id, [] {
      tinyedge_v1_OtaStatus st = tinyedge_v1_OtaStatus_init_zero;
      st.model_id = kModel;
      st.version = kNew;
      st.state = tinyedge_v1_OtaState_OTA_DOWNLOADING;
      st.total_bytes = kPayload;
      st.bytes_written = kPayload / 2;
      return st;
    }(), t);
  }
  EXPECT_EQ(fleet.nodes[silent].offers, offers_before[silent] + 1) << "a node silent since the takeover";
  EXPECT_EQ(fleet.nodes[engine.nodes()[13].node_id].offers, offers_before[engine.nodes()[13].node_id])
      << "a node still reporting was offered again";
  fleet.nodes[silent].silent = false;
  now += 5000;
  const std::string reconnecting = engine.nodes()[12].node_id;  // in the last wave
  ASSERT_TRUE(is_in_flight(successor.node(reconnecting)->state));
  const uint32_t before_reconnect = fleet.nodes[reconnecting].offers;
  successor.on_online(reconnecting, false, now);
  successor.on_online(reconnecting, true, now);
  fleet.apply(successor.tick(now));
  EXPECT_EQ(fleet.nodes[reconnecting].offers, before_reconnect + 1) << "a reconnect is offered again";
  now = run(successor, fleet, now);
  EXPECT_EQ(successor.record().state, RolloutState::kCompleted) << successor.record().reason;
  for (const auto& [id, node] : fleet.nodes) {
    EXPECT_EQ(node.version, kNew) << id;
    EXPECT_EQ(node.bytes_from_zero, 1u) << id << " started from zero twice";
  }
}

// A canary of 4 of 20 nodes, then 100 %, with the quality gate judging from 40 results a side.
RolloutEngine gated_engine(FakeFleet& fleet) {
  auto record = make_record("4", "100", "0", 10000);
  record.strategy.gate.enabled = true;
  record.strategy.gate.min_samples = 40;
  return RolloutEngine::create(record, fleet.targets(), 0);
}

// Runs until the canary is updated and soaking (or 10 s have passed); returns the time then.
TimeMs run_canary_to_soak(RolloutEngine& engine, FakeFleet& fleet) {
  TimeMs now = 0;
  for (; engine.record().soak_until == 0 && now < 10000; now += 100) {
    fleet.apply(engine.tick(now));
    fleet.step(engine, now);
  }
  return now;
}

TEST(RolloutEngine, QualityGatePausesAfterTheCanaryNamingTheBound) {
  FakeFleet fleet(20);
  auto engine = gated_engine(fleet);
  const TimeMs now = run_canary_to_soak(engine, fleet);
  ASSERT_NE(engine.record().soak_until, 0) << "soaking after the canary";
  // Updated nodes report permuted labels; the others the true ones.
  for (int i = 0; i < 60; ++i) {
    for (const auto& [id, node] : fleet.nodes) {
      uint32_t label = std::min(i % 8, 4);  // a skewed mix, as real inputs are
      engine.on_inference(id, kModel, node.version, node.version == kNew ? (label + 2) % 5 : label, 200, 3000);
    }
    fleet.apply(engine.tick(now));
    if (engine.record().state != RolloutState::kRunning) break;
  }
  ASSERT_EQ(engine.record().state, RolloutState::kPaused);
  EXPECT_NE(engine.record().reason.find("label distribution"), std::string::npos) << engine.record().reason;
  EXPECT_NE(engine.record().reason.find("canary"), std::string::npos) << engine.record().reason;
  for (const auto& node : engine.nodes()) {
    if (node.phase > 0) {
      EXPECT_EQ(node.state, NodeState::kPending);
    }
  }
  // Operator overrides the gate for this phase: the rollout goes on after the soak.
  engine.resume(now);
  run(engine, fleet, now + 10000);
  EXPECT_EQ(engine.record().state, RolloutState::kCompleted) << engine.record().reason;
}

TEST(RolloutEngine, QualityGatePassesAGoodModelAfterTheSoak) {
  FakeFleet fleet(20);
  auto engine = gated_engine(fleet);
  const TimeMs now = run_canary_to_soak(engine, fleet);
  ASSERT_NE(engine.record().soak_until, 0) << "soaking after the canary";
  for (int i = 0; i < 60; ++i) {
    for (const auto& [id, node] : fleet.nodes) engine.on_inference(id, kModel, node.version, i % 5, 200, 3000);
  }
  fleet.apply(engine.tick(now));
  EXPECT_EQ(engine.record().state, RolloutState::kRunning);
  EXPECT_NE(engine.record().gate_message.find("pass"), std::string::npos) << engine.record().gate_message;
  run(engine, fleet, engine.record().soak_until);
  EXPECT_EQ(engine.record().state, RolloutState::kCompleted) << engine.record().reason;
}

TEST(RolloutEngine, RebootsOfUpdatedNodesTripTheErrorBound) {
  FakeFleet fleet(20);
  auto engine = gated_engine(fleet);
  // Reboots before the soak (e.g. while a node updates) are not the model's errors.
  for (const auto& [id, node] : fleet.nodes) engine.on_reboot(id);
  const TimeMs now = run_canary_to_soak(engine, fleet);
  ASSERT_NE(engine.record().soak_until, 0) << "soaking after the canary";
  EXPECT_EQ(engine.updated_cohort().errors() + engine.baseline_cohort().errors(), 0u);
  // Same answers on both sides; but the canary nodes on the new model keep crashing: 3 reboots
  // per 10 results. A baseline node rebooting now and then is normal.
  for (int i = 0; i < 60; ++i) {
    for (const auto& [id, node] : fleet.nodes) {
      engine.on_inference(id, kModel, node.version, i % 5, 200, 3000);
      if (node.version == kNew && i % 10 < 3) engine.on_reboot(id);
    }
    if (i == 30) engine.on_reboot("n019");
  }
  EXPECT_EQ(engine.updated_cohort().errors(), 4u * 18);
  EXPECT_EQ(engine.baseline_cohort().errors(), 1u);
  fleet.apply(engine.tick(now));
  ASSERT_EQ(engine.record().state, RolloutState::kPaused) << engine.record().gate_message;
  EXPECT_NE(engine.record().reason.find("error_rate_increase"), std::string::npos) << engine.record().reason;
  EXPECT_NE(engine.record().reason.find("error rate rose"), std::string::npos) << engine.record().reason;
}

TEST(RolloutEngine, OccasionalRebootsOnBothSidesPassTheGate) {
  FakeFleet fleet(20);
  auto engine = gated_engine(fleet);
  const TimeMs now = run_canary_to_soak(engine, fleet);
  ASSERT_NE(engine.record().soak_until, 0) << "soaking after the canary";
  for (int i = 0; i < 60; ++i) {
    for (const auto& [id, node] : fleet.nodes) engine.on_inference(id, kModel, node.version, i % 5, 200, 3000);
  }
  engine.on_reboot("n000");  // canary node
  engine.on_reboot("n010");  // baseline node
  fleet.apply(engine.tick(now));
  EXPECT_EQ(engine.record().state, RolloutState::kRunning) << engine.record().reason;
  EXPECT_EQ(engine.updated_cohort().errors(), 1u);
}

TEST(RolloutEngine, QualityGateWithoutTelemetryPausesAtTheEndOfTheSoak) {
  FakeFleet fleet(10);
  auto record = make_record("2", "100", "0", 1000);
  record.strategy.gate.enabled = true;
  auto engine = RolloutEngine::create(record, fleet.targets(), 0);
  run(engine, fleet, 0);
  ASSERT_EQ(engine.record().state, RolloutState::kPaused);
  EXPECT_NE(engine.record().reason.find("not enough telemetry"), std::string::npos) << engine.record().reason;
}

TEST(RolloutEngine, NodesAlreadyOnTheVersionCountAsDoneWithoutAnOffer) {
  FakeFleet fleet(6);
  fleet.nodes["n002"].version = kNew;
  auto engine = RolloutEngine::create(make_record("0", "100", "0"), fleet.targets(), 0);
  EXPECT_EQ(engine.node("n002")->state, NodeState::kActivated);
  run(engine, fleet, 0);
  EXPECT_EQ(fleet.nodes["n002"].offers, 0u);
  EXPECT_EQ(engine.record().state, RolloutState::kCompleted);
}

TEST(RolloutEngine, StatusesAboutOtherVersionsOrModelsAreIgnored) {
  FakeFleet fleet(2);
  auto engine = RolloutEngine::create(make_record("0", "100", "0"), fleet.targets(), 0);
  fleet.apply(engine.tick(0));
  tinyedge_v1_OtaStatus st = tinyedge_v1_OtaStatus_init_zero;
  st.model_id = kModel;
  st.version = 99;
  st.state = tinyedge_v1_OtaState_OTA_FAILED;
  engine.on_status("n000", st, 1);
  st.model_id = 1234;
  st.version = kNew;
  engine.on_status("n000", st, 1);
  engine.on_status("stranger", st, 1);
  EXPECT_EQ(engine.node("n000")->state, NodeState::kOffered);
}

// A node refusing a delta because it does not run the delta's base fetched nothing: it goes back
// to pending and is offered the full package (the action says so) without counting as a failure;
// a second base-mismatch refusal, of the full offer, is final.
TEST(RolloutEngine, BaseMismatchOnADeltaOffersTheFullPackageOnce) {
  FakeFleet fleet(2);
  auto engine = RolloutEngine::create(make_record("0", "100", "0"), fleet.targets(), 0);
  std::vector<Action> first = engine.tick(0);
  ASSERT_EQ(first.size(), 2u);
  for (const Action& a : first) EXPECT_FALSE(a.full_only) << a.node_id << ": a first offer may be a delta";
  tinyedge_v1_OtaStatus st = tinyedge_v1_OtaStatus_init_zero;
  st.model_id = kModel;
  st.version = kNew;
  st.state = tinyedge_v1_OtaState_OTA_REFUSED;
  st.reason = tinyedge_v1_OtaReason_OTA_BASE_MISMATCH;
  st.active_version = kOld;
  engine.on_status("n000", st, 10);
  ASSERT_EQ(engine.node("n000")->state, NodeState::kPending) << engine.node("n000")->reason;
  EXPECT_NE(engine.node("n000")->reason.find("full package"), std::string::npos) << engine.node("n000")->reason;
  EXPECT_EQ(engine.failures(), 0u) << "a refused delta is not a failed update";
  std::vector<Action> again = engine.tick(20);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].node_id, "n000");
  EXPECT_TRUE(again[0].full_only) << "the node that refused the delta must be offered the full package";
  engine.on_status("n000", st, 30);
  EXPECT_EQ(engine.node("n000")->state, NodeState::kRefused) << "the full package refused for its base: final";
  EXPECT_EQ(engine.record().state, RolloutState::kRunning);
  EXPECT_EQ(engine.node("n001")->state, NodeState::kOffered) << "other nodes are not touched";
}

}  // namespace
}  // namespace tinyedge::rollout
