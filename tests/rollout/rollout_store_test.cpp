#include <gtest/gtest.h>

#include <filesystem>

#include "gateway/rollout/model_registry.h"
#include "gateway/rollout/rollout_store.h"
#include "gateway/store/sqlite/sqlite_rollout_store.h"
#include "tests/rollout/test_packages.h"

namespace tinyedge::rollout {
namespace {

namespace fs = std::filesystem;

class RolloutStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rollout_store_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "gateway.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string db_;
  ota::SigningKey key_ = ota::SigningKey::generate();
};

TEST_F(RolloutStoreTest, RegistryAcceptsOnlyPackagesSignedByTheFleetKey) {
  gateway::SqliteRolloutStore store(db_);
  ModelRegistry registry(store, {ota::make_trusted_key(key_.public_point())});
  auto good = ota::encode_package(testing::make_package(key_, 3, 2, 1000, {"host-sim"}));
  ModelRow row = registry.add(good, 1234);
  EXPECT_EQ(row.model_id, 3u);
  EXPECT_EQ(row.version, 2u);
  EXPECT_EQ(row.hardware, (std::vector<std::string>{"host-sim"}));
  EXPECT_EQ(registry.package(row.id).payload.size(), 1000u);

  // Another key: refused, naming the key problem, registry unchanged.
  ota::SigningKey stranger = ota::SigningKey::generate();
  auto foreign = ota::encode_package(testing::make_package(stranger, 3, 3, 1000));
  try {
    registry.add(foreign, 1);
    FAIL() << "foreign key accepted";
  } catch (const RegistryError& e) {
    EXPECT_NE(std::string(e.what()).find("does not trust"), std::string::npos) << e.what();
  }
  // A flipped payload byte: the signature still verifies, the hash does not.
  auto tampered = ota::encode_package(testing::make_package(key_, 3, 4, 1000));
  tampered.back() ^= 0x01;
  EXPECT_THROW(registry.add(tampered, 1), RegistryError);
  // A flipped signature byte.
  auto bad_sig = ota::encode_package(testing::make_package(key_, 3, 5, 1000));
  auto pkg = ota::parse_package(bad_sig);
  bad_sig[12 + pkg.manifest.size() + 10] ^= 0x40;
  EXPECT_THROW(registry.add(bad_sig, 1), RegistryError);
  // Garbage and duplicates.
  std::vector<uint8_t> junk{1, 2, 3};
  EXPECT_THROW(registry.add(junk, 1), RegistryError);
  EXPECT_THROW(registry.add(good, 1), RegistryError);
  EXPECT_EQ(registry.list().size(), 1u);
}

TEST_F(RolloutStoreTest, PreviousModelIsTheHighestLowerVersion) {
  gateway::SqliteRolloutStore store(db_);
  ModelRegistry registry(store, {ota::make_trusted_key(key_.public_point())});
  for (uint32_t v : {1u, 3u, 2u, 7u}) registry.add(ota::encode_package(testing::make_package(key_, 9, v, 100)), v);
  EXPECT_EQ(store.previous_model(9, 7)->version, 3u);
  EXPECT_EQ(store.previous_model(9, 3)->version, 2u);
  EXPECT_FALSE(store.previous_model(9, 1));
  EXPECT_FALSE(store.previous_model(10, 5));
}

TEST_F(RolloutStoreTest, RolloutAndNodesSurviveReopening) {
  RolloutRecord record;
  record.package = {1, 9, 2};
  record.previous = {0, 9, 0};
  record.target = "group:factory-a";
  record.strategy.canary = {5, true};
  record.strategy.waves = {25, 50, 100};
  record.strategy.max_failures = {2, true};
  record.strategy.soak_ms = 30000;
  record.strategy.gate.max_label_jsd = 0.2;
  std::vector<TargetNode> targets;
  for (int i = 0; i < 40; ++i) targets.push_back({"node" + std::to_string(i), i % 3 != 0, 9, 1});
  auto engine = RolloutEngine::create(record, targets, 5000);
  engine.tick(5000);
  int64_t id = 0;
  {
    gateway::SqliteRolloutStore store(db_);
    ModelRegistry registry(store, {ota::make_trusted_key(key_.public_point())});
    registry.add(ota::encode_package(testing::make_package(key_, 9, 2, 100)), 1);
    RolloutRecord r = engine.record();
    id = store.insert_rollout(r);
    r.id = id;
    std::vector<const NodeRecord*> nodes;
    for (const auto& n : engine.nodes()) nodes.push_back(&n);
    store.save(r, nodes);
  }
  gateway::SqliteRolloutStore store(db_);
  auto loaded = store.rollout(id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->target, "group:factory-a");
  EXPECT_EQ(loaded->phase_ends, engine.record().phase_ends);
  EXPECT_EQ(loaded->deadline_at, engine.record().deadline_at);
  EXPECT_EQ(loaded->strategy.waves, (std::vector<double>{25, 50, 100}));
  EXPECT_TRUE(loaded->strategy.max_failures.percent);
  EXPECT_EQ(loaded->strategy.soak_ms, 30000);
  EXPECT_DOUBLE_EQ(loaded->strategy.gate.max_label_jsd, 0.2);
  EXPECT_EQ(loaded->previous.registry_id, 0);
  auto nodes = store.rollout_nodes(id);
  ASSERT_EQ(nodes.size(), 40u);
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NodeRecord& a = engine.nodes()[i];
    EXPECT_EQ(nodes[i].node_id, a.node_id);
    EXPECT_EQ(nodes[i].state, a.state);
    EXPECT_EQ(nodes[i].phase, a.phase);
    EXPECT_EQ(nodes[i].offered_at, a.offered_at);
  }
  EXPECT_FALSE(store.rollout(id + 1));
  RolloutRecord ghost = *loaded;
  ghost.id = 999;
  EXPECT_THROW(store.save(ghost, {}), StoreError);
}

TEST_F(RolloutStoreTest, StrategyJsonRejectsBadInput) {
  EXPECT_THROW(strategy_from_json("not json"), std::invalid_argument);
  EXPECT_THROW(strategy_from_json("[]"), std::invalid_argument);
  EXPECT_THROW(strategy_from_json(R"({"waves":[50,20,100]})"), std::invalid_argument);
  EXPECT_THROW(strategy_from_json(R"({"canary":"lots"})"), std::invalid_argument);
  EXPECT_THROW(strategy_from_json(R"({"max_concurrent":"many"})"), std::invalid_argument);
  Strategy s = strategy_from_json(R"({"canary":"5%","waves":[10,100],"soak_ms":1000})");
  EXPECT_TRUE(s.canary.percent);
  EXPECT_EQ(s.waves.size(), 2u);
}

TEST_F(RolloutStoreTest, UnopenableDatabaseIsAClearError) {
  try {
    gateway::SqliteRolloutStore store((dir_ / "missing-dir" / "x.db").string());
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tinyedge::rollout
