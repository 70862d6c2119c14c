#include "node_firmware/app/result_ring.h"

#include <gtest/gtest.h>

namespace tinyedge::app {
namespace {

StoredResult result(uint32_t seq) {
  StoredResult r;
  r.seq = seq;
  return r;
}

TEST(ResultRing, KeepsResultsUntilAcked) {
  StaticResultRing<4> ring;
  for (uint32_t s = 1; s <= 3; ++s) EXPECT_TRUE(ring.push(result(s)));
  ring.mark_sent(2);
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring.sent(), 2u);
  EXPECT_EQ(ring.unsent_at(0).seq, 3u);
  EXPECT_EQ(ring.ack(1), 1u);
  EXPECT_EQ(ring.size(), 2u);
  EXPECT_EQ(ring.sent(), 1u);
  EXPECT_EQ(ring.at(0).seq, 2u);
  EXPECT_EQ(ring.ack(3), 2u);
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_EQ(ring.sent(), 0u);
}

TEST(ResultRing, DropsOldestWhenFullAndCountsIt) {
  StaticResultRing<3> ring;
  for (uint32_t s = 1; s <= 3; ++s) ring.push(result(s));
  ring.mark_sent(2);
  EXPECT_FALSE(ring.push(result(4)));
  EXPECT_FALSE(ring.push(result(5)));
  EXPECT_EQ(ring.dropped(), 2u);
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring.at(0).seq, 3u);
  EXPECT_EQ(ring.at(2).seq, 5u);
  // Both dropped results had been sent: what remains sent is nothing.
  EXPECT_EQ(ring.sent(), 0u);
  EXPECT_EQ(ring.unsent_at(0).seq, 3u);
}

TEST(ResultRing, StaleAndFutureAcks) {
  StaticResultRing<4> ring;
  for (uint32_t s = 10; s <= 13; ++s) ring.push(result(s));
  ring.mark_sent(4);
  EXPECT_EQ(ring.ack(5), 0u) << "an ack below the oldest stored seq removes nothing";
  EXPECT_EQ(ring.size(), 4u);
  EXPECT_EQ(ring.ack(11), 2u);
  EXPECT_EQ(ring.ack(11), 0u) << "a duplicate ack is harmless";
  EXPECT_EQ(ring.ack(1000), 2u);
  EXPECT_EQ(ring.size(), 0u);
}

TEST(ResultRing, RewindResendsEverythingStored) {
  StaticResultRing<4> ring;
  for (uint32_t s = 1; s <= 4; ++s) ring.push(result(s));
  ring.mark_sent(3);
  ring.rewind();
  EXPECT_EQ(ring.sent(), 0u);
  EXPECT_EQ(ring.unsent(), 4u);
  EXPECT_EQ(ring.unsent_at(0).seq, 1u);
}

TEST(ResultRing, WrapsAroundManyTimes) {
  StaticResultRing<5> ring;
  uint32_t next = 1;
  uint32_t acked = 0;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 3; ++i) ring.push(result(next++));
    ring.mark_sent(ring.unsent());
    acked = next - 2;
    ring.ack(acked);
    ASSERT_EQ(ring.size(), 1u);
    ASSERT_EQ(ring.at(0).seq, acked + 1);
  }
  EXPECT_EQ(ring.dropped(), 0u);
}

TEST(ResultRing, SeqWrapAround) {
  StaticResultRing<4> ring;
  ring.push(result(0xFFFFFFFEu));
  ring.push(result(0xFFFFFFFFu));
  ring.push(result(0));
  EXPECT_EQ(ring.ack(0xFFFFFFFFu), 2u);
  EXPECT_EQ(ring.at(0).seq, 0u);
}

}  // namespace
}  // namespace tinyedge::app
