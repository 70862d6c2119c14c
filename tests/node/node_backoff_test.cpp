// The node during a gateway outage (the link stays up, no Ack comes back): resends back off
// exponentially with jitter, at most a window of uplinks is in flight, and once the gateway is
// back every result reaches it, exactly once.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "fakes.h"
#include "node_firmware/app/node.h"

namespace tinyedge::app {
namespace {

using testing::CountingSensor;
using testing::FakeBearer;
using testing::FakeEngine;
using testing::FakePlatform;

// A node with a generous ring (an outage must not cost results here) and a fake gateway that,
// while up, stores what arrives and acks every contiguous result at once.
struct OutageRig {
  explicit OutageRig(uint32_t entropy_seed = 0x5EED, const char* node_id = "n1")
      : storage(1024),
        ring(storage),
        tx(protocol::kMaxUplinkBytes),
        rx(protocol::kMaxDownlinkBytes),
        node(config(node_id), (platform.entropy_bits = entropy_seed, platform), sensor, bearer, engine, ring, tx, rx) {}

  static NodeConfig config(const char* node_id) {
    NodeConfig c;
    c.node_id = node_id;
    c.hardware = "test";
    c.boot_id = 42;
    c.sample_interval_ms = 1000;
    c.report_interval_ms = 100;
    c.batch_max = 4;
    c.ack_timeout_ms = 1000;
    c.ack_timeout_max_ms = 64000;
    c.max_uplinks_in_flight = 2;
    c.telemetry_interval_ms = 3600000;
    c.top_k = 1;
    return c;
  }

  // Advances `ms` in 10 ms steps. Each step's uplinks reach the gateway only if it is up.
  void run_ms(uint32_t ms) {
    for (uint32_t t = 0; t < ms; t += 10) {
      platform.ms += 10;
      const uint32_t resends_before = node.counters().ack_timeouts;
      node.step();
      if (node.counters().ack_timeouts != resends_before) resend_times.push_back(platform.ms);
      for (const auto& m : bearer.sent) {
        if (m.which_payload != tinyedge_v1_Uplink_results_tag) continue;
        ++uplinks_sent;
        if (!gateway_up) continue;
        for (pb_size_t i = 0; i < m.payload.results.results_count; ++i) ++delivered[m.seq + i];
      }
      bearer.sent.clear();
      if (!gateway_up) continue;
      uint32_t through = acked;
      while (delivered.count(through + 1) != 0) ++through;
      if (through != acked) {
        acked = through;
        bearer.ack(42, acked);
      }
    }
  }

  FakePlatform platform;
  CountingSensor sensor;
  FakeBearer bearer;
  FakeEngine engine;
  std::vector<StoredResult> storage;
  ResultRing ring;
  std::vector<uint8_t> tx;
  std::vector<uint8_t> rx;
  Node node;
  bool gateway_up = true;
  uint32_t acked = 0;
  std::map<uint32_t, int> delivered;  // seq -> times the gateway received it
  std::vector<uint32_t> resend_times;
  size_t uplinks_sent = 0;
};

// Resends during an outage of `seconds`, for a node acked normally before and after it.
struct OutageRun {
  uint32_t resends = 0;
  size_t uplinks_during_outage = 0;
  std::vector<uint32_t> resend_times;
};

OutageRun run_outage(OutageRig& rig, uint32_t seconds) {
  rig.run_ms(5000);
  EXPECT_GT(rig.acked, 0u) << "results flow while the gateway is up";
  const uint32_t resends_before = rig.node.counters().ack_timeouts;
  const size_t uplinks_before = rig.uplinks_sent;
  rig.resend_times.clear();
  rig.gateway_up = false;
  rig.run_ms(seconds * 1000);
  OutageRun run{rig.node.counters().ack_timeouts - resends_before, rig.uplinks_sent - uplinks_before, rig.resend_times};
  rig.gateway_up = true;
  return run;
}

TEST(NodeBackoff, ResendsDuringAnOutageGrowLogarithmicallyNotLinearly) {
  for (const uint32_t seconds : {60u, 240u}) {
    OutageRig rig;
    const OutageRun run = run_outage(rig, seconds);
    // Doubling from 1 s: about log2(T / 1 s) timeouts (the 64 s cap is not reached within 240 s
    // by more than a couple). A node without back-off resends once a second: 60 and 240 times.
    const double bound = std::log2(seconds) + 3;
    EXPECT_LE(run.resends, bound) << "an outage of " << seconds << " s caused " << run.resends
                                  << " resends; with exponential back-off it takes at most " << bound;
    EXPECT_GE(run.resends, 3u) << "the node must still retry during a " << seconds << " s outage";
    // The window: each resend puts at most 2 uplinks on the air, and new results queue behind it.
    EXPECT_LE(run.uplinks_during_outage, 2 * (run.resends + 1))
        << seconds << " s outage: " << run.uplinks_during_outage << " result uplinks for " << run.resends
        << " resends; at most 2 may be in flight at once";
  }
}

TEST(NodeBackoff, ResendsAreJittered) {
  OutageRig a(1), b(0xC0FFEE);
  const OutageRun ra = run_outage(a, 120);
  const OutageRun rb = run_outage(b, 120);
  ASSERT_GE(ra.resend_times.size(), 4u);
  ASSERT_GE(rb.resend_times.size(), 4u);
  // Two nodes that lost the gateway at the same instant must not resend in lockstep...
  size_t same = 0;
  for (size_t i = 0; i < std::min(ra.resend_times.size(), rb.resend_times.size()); ++i) {
    same += ra.resend_times[i] == rb.resend_times[i];
  }
  EXPECT_LT(same, ra.resend_times.size()) << "two nodes with different entropy resent at the very same instants";
  // ...and one node's gaps are not the bare doubling 1, 2, 4, 8 s.
  bool jittered = false;
  for (size_t i = 1; i < ra.resend_times.size(); ++i) {
    const uint32_t gap = ra.resend_times[i] - ra.resend_times[i - 1];
    const uint32_t bare = 1000u << std::min<size_t>(i, 6);
    if (gap != bare && gap != bare + 10) jittered = true;
    EXPECT_GE(gap, bare) << "a backed-off wait is never shorter than the doubling (resend " << i << ")";
    EXPECT_LE(gap, bare * 3 / 2 + 20) << "jitter adds at most half of the wait (resend " << i << ")";
  }
  EXPECT_TRUE(jittered) << "the gaps between resends are exactly the doubling: no jitter";
}

TEST(NodeBackoff, EveryResultIsDeliveredExactlyOnceAfterTheOutage) {
  OutageRig rig;
  run_outage(rig, 180);  // what the node sent meanwhile never arrived
  rig.node.set_sampling(false);
  rig.run_ms(150000);  // the longest backed-off wait (64 s + 50 %) and the drain
  const uint32_t produced = rig.node.counters().next_seq - 1;
  ASSERT_GT(produced, 180u);
  EXPECT_EQ(rig.ring.size(), 0u) << "results still waiting for an ack after the gateway came back";
  EXPECT_EQ(rig.ring.dropped(), 0u);
  EXPECT_EQ(rig.acked, produced);
  for (uint32_t seq = 1; seq <= produced; ++seq) {
    ASSERT_EQ(rig.delivered.count(seq), 1u) << "result " << seq << " never reached the gateway";
    EXPECT_EQ(rig.delivered[seq], 1) << "result " << seq << " reached the gateway " << rig.delivered[seq] << " times";
  }
}

TEST(NodeBackoff, AnAckResetsTheBackoff) {
  OutageRig rig;
  run_outage(rig, 60);
  rig.run_ms(100000);  // recovered: everything acked but the result of the last report interval
  ASSERT_LE(rig.ring.size(), 1u);
  // A second, short outage starts again from the base timeout.
  const OutageRun again = run_outage(rig, 4);
  EXPECT_GE(again.resends, 1u) << "after an Ack the next timeout is the base 1 s (+ jitter) again";
}

}  // namespace
}  // namespace tinyedge::app
