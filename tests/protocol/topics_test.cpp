#include <gtest/gtest.h>

#include <string>

#include "protocol/topics.h"

namespace tinyedge::protocol {
namespace {

TEST(Topics, FormatsEveryChannel) {
  char buf[kMaxTopicLength];
  EXPECT_EQ(std::string(buf, format_topic(buf, "n-001", Channel::kUp)), "tinyedge/v1/n-001/up");
  EXPECT_EQ(std::string(buf, format_topic(buf, "n-001", Channel::kDown)), "tinyedge/v1/n-001/down");
  EXPECT_EQ(std::string(buf, format_topic(buf, "n-001", Channel::kState)), "tinyedge/v1/n-001/state");
  EXPECT_EQ(std::string(buf, format_wildcard_topic(buf, Channel::kUp)), "tinyedge/v1/+/up");
}

TEST(Topics, LongestNodeIdFits) {
  char buf[kMaxTopicLength];
  const std::string id(kMaxNodeIdLength, 'z');
  EXPECT_GT(format_topic(buf, id, Channel::kState), 0u);
}

TEST(Topics, RefusesIdsThatAreNotOneTopicLevel) {
  char buf[kMaxTopicLength];
  for (const char* bad : {"", "a/b", "+", "#", "a b", "ü"}) {
    EXPECT_EQ(format_topic(buf, bad, Channel::kUp), 0u) << "accepted '" << bad << "'";
  }
  EXPECT_EQ(format_topic(buf, std::string(kMaxNodeIdLength + 1, 'a'), Channel::kUp), 0u);
  char small[8];
  EXPECT_EQ(format_topic(small, "n1", Channel::kUp), 0u);
}

TEST(Topics, ParsesItsOwnTopicsAndRejectsOthers) {
  const auto parts = parse_topic("tinyedge/v1/n-7/up");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->node_id, "n-7");
  EXPECT_EQ(parts->channel, Channel::kUp);
  EXPECT_EQ(parse_topic("tinyedge/v1/n-7/state")->channel, Channel::kState);
  for (const char* bad : {"tinyedge/v2/n/up", "tinyedge/v1/n/sideways", "tinyedge/v1//up", "tinyedge/v1/a/b/up",
                          "tinyedge/v1/n", "other/v1/n/up"}) {
    EXPECT_FALSE(parse_topic(bad).has_value()) << "parsed '" << bad << "'";
  }
}

}  // namespace
}  // namespace tinyedge::protocol
