#include <gtest/gtest.h>

#include <stdexcept>

#include "gateway/rollout/rollout_types.h"

namespace tinyedge::rollout {
namespace {

TEST(RolloutTypes, ParsesCountsAndPercents) {
  auto c = parse_count_or_percent("5%", "canary");
  EXPECT_TRUE(c.percent);
  EXPECT_DOUBLE_EQ(c.value, 5);
  c = parse_count_or_percent(" 7 ", "canary");
  EXPECT_FALSE(c.percent);
  EXPECT_DOUBLE_EQ(c.value, 7);
  EXPECT_THROW(parse_count_or_percent("2.5", "canary"), std::invalid_argument);
  EXPECT_THROW(parse_count_or_percent("150%", "canary"), std::invalid_argument);
  EXPECT_THROW(parse_count_or_percent("-1", "canary"), std::invalid_argument);
  EXPECT_THROW(parse_count_or_percent("five", "canary"), std::invalid_argument);
  EXPECT_THROW(parse_count_or_percent("", "canary"), std::invalid_argument);
}

TEST(RolloutTypes, ParsesWavesAndRejectsBadLists) {
  EXPECT_EQ(parse_waves("25,50,100"), (std::vector<double>{25, 50, 100}));
  EXPECT_EQ(parse_waves("10%, 100%"), (std::vector<double>{10, 100}));
  EXPECT_THROW(parse_waves("50,25,100"), std::invalid_argument);
  EXPECT_THROW(parse_waves("25,50"), std::invalid_argument);
  EXPECT_THROW(parse_waves("0,100"), std::invalid_argument);
  EXPECT_THROW(parse_waves("25,,100"), std::invalid_argument);
  EXPECT_THROW(parse_waves(""), std::invalid_argument);
  try {
    parse_waves("25,50");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("100"), std::string::npos) << e.what();
  }
}

TEST(RolloutTypes, ParsesDurations) {
  EXPECT_EQ(parse_duration_ms("30s", "soak"), 30000);
  EXPECT_EQ(parse_duration_ms("250ms", "soak"), 250);
  EXPECT_EQ(parse_duration_ms("5m", "soak"), 300000);
  EXPECT_EQ(parse_duration_ms("2h", "soak"), 7200000);
  EXPECT_EQ(parse_duration_ms("1.5s", "soak"), 1500);
  EXPECT_EQ(parse_duration_ms("10", "soak"), 10000);
  EXPECT_THROW(parse_duration_ms("10 parsecs", "soak"), std::invalid_argument);
  EXPECT_THROW(parse_duration_ms("s", "soak"), std::invalid_argument);
  EXPECT_EQ(format_duration_ms(30000), "30s");
  EXPECT_EQ(format_duration_ms(120000), "2m");
  EXPECT_EQ(format_duration_ms(1500), "1500ms");
}

TEST(RolloutTypes, PlansCanaryThenCumulativeWaves) {
  Strategy s;
  s.canary = {5, false};
  s.waves = {25, 50, 100};
  EXPECT_EQ(plan_phase_ends(s, 100), (std::vector<uint32_t>{5, 25, 50, 100}));
  s.canary = {5, true};
  EXPECT_EQ(plan_phase_ends(s, 10), (std::vector<uint32_t>{1, 3, 5, 10}));
  // A wave smaller than the canary disappears rather than repeating nodes.
  s.canary = {30, false};
  EXPECT_EQ(plan_phase_ends(s, 100), (std::vector<uint32_t>{30, 50, 100}));
  s.canary = {0, false};
  s.waves = {100};
  EXPECT_EQ(plan_phase_ends(s, 7), (std::vector<uint32_t>{7}));
  EXPECT_EQ(plan_phase_ends(s, 0), (std::vector<uint32_t>{0}));
  s.canary = {500, false};
  EXPECT_EQ(plan_phase_ends(s, 3), (std::vector<uint32_t>{3}));
}

TEST(RolloutTypes, StateNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(NodeState::kCancelled); ++i) {
    auto state = static_cast<NodeState>(i);
    EXPECT_EQ(node_state_from_string(to_string(state)), state);
  }
  for (int i = 0; i <= static_cast<int>(RolloutState::kRolledBack); ++i) {
    auto state = static_cast<RolloutState>(i);
    EXPECT_EQ(rollout_state_from_string(to_string(state)), state);
  }
  EXPECT_FALSE(node_state_from_string("bogus"));
}

}  // namespace
}  // namespace tinyedge::rollout
