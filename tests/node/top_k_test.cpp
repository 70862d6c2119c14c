#include "node_firmware/app/top_k.h"

#include <gtest/gtest.h>

#include <vector>

namespace tinyedge::app {
namespace {

TEST(TopK, OrdersBestFirstAndQuantises) {
  const std::vector<int8_t> out = {-128, 50, -100, 127, 0};
  ClassScore top[3];
  ASSERT_EQ(top_k(out, -128, top), 3u);
  EXPECT_EQ(top[0].label, 3);
  EXPECT_EQ(top[0].score, 255);
  EXPECT_EQ(top[1].label, 1);
  EXPECT_EQ(top[1].score, 178);
  EXPECT_EQ(top[2].label, 4);
  EXPECT_EQ(top[2].score, 128);
}

TEST(TopK, TiesKeepIndexOrder) {
  const std::vector<int8_t> out = {5, 9, 9, 5, 9};
  ClassScore top[4];
  ASSERT_EQ(top_k(out, -128, top), 4u);
  EXPECT_EQ(top[0].label, 1);
  EXPECT_EQ(top[1].label, 2);
  EXPECT_EQ(top[2].label, 4);
  EXPECT_EQ(top[3].label, 0);
}

TEST(TopK, FewerClassesThanK) {
  const std::vector<int8_t> out = {1, 2};
  ClassScore top[5];
  ASSERT_EQ(top_k(out, 0, top), 2u);
  EXPECT_EQ(top[0].label, 1);
  EXPECT_EQ(top[0].score, 2);
  EXPECT_EQ(top_k(std::span<const int8_t>(), 0, top), 0u);
}

TEST(TopK, ScoreClamps) {
  EXPECT_EQ(quantised_score(-128, -128), 0);
  EXPECT_EQ(quantised_score(127, -128), 255);
  EXPECT_EQ(quantised_score(-5, 0), 0) << "below the zero point is probability 0";
  EXPECT_EQ(quantised_score(100, 0), 100);
}

TEST(TopK, MatchesFullSortOnMany) {
  std::vector<int8_t> out(300);
  uint32_t s = 1;
  for (auto& v : out) {
    s = s * 1103515245u + 12345u;
    v = static_cast<int8_t>(s >> 24);
  }
  ClassScore top[5];
  ASSERT_EQ(top_k(out, -128, top), 5u);
  for (int j = 0; j < 4; ++j) EXPECT_GE(out[top[j].label], out[top[j + 1].label]);
  for (size_t i = 0; i < out.size(); ++i) {
    bool in_top = false;
    for (auto& t : top) in_top |= t.label == i;
    if (!in_top) {
      EXPECT_LE(out[i], out[top[4].label]) << "class " << i << " beats the 5th";
    }
  }
}

}  // namespace
}  // namespace tinyedge::app
