#include <gtest/gtest.h>

#include "gateway/rollout/rollout_store.h"

namespace tinyedge::rollout {
namespace {

// The repository's contract (models, rollouts, node records) runs against every backend in
// tests/gateway/store_contract_test.cpp; here is what needs no database.
TEST(RolloutStoreTest, StrategyJsonRejectsBadInput) {
  EXPECT_THROW(strategy_from_json("not json"), std::invalid_argument);
  EXPECT_THROW(strategy_from_json("[]"), std::invalid_argument);
  EXPECT_THROW(strategy_from_json(R"({"waves":[50,20,100]})"), std::invalid_argument);
  EXPECT_THROW(strategy_from_json(R"({"canary":"lots"})"), std::invalid_argument);
  EXPECT_THROW(strategy_from_json(R"({"max_concurrent":"many"})"), std::invalid_argument);
  Strategy s = strategy_from_json(R"({"canary":"5%","waves":[10,100],"soak_ms":1000})");
  EXPECT_TRUE(s.canary.percent);
  EXPECT_EQ(s.waves.size(), 2u);
}

}  // namespace
}  // namespace tinyedge::rollout
