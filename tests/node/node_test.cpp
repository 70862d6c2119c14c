#include "node_firmware/app/node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "fakes.h"

namespace tinyedge::app {
namespace {

using testing::CountingSensor;
using testing::FakeBearer;
using testing::FakeEngine;
using testing::FakePlatform;

struct Rig {
  explicit Rig(NodeConfig c = default_config(), size_t ring_capacity = 16, size_t tx_bytes = protocol::kMaxUplinkBytes)
      : storage(ring_capacity),
        ring(storage),
        tx(tx_bytes),
        rx(protocol::kMaxDownlinkBytes),
        node(c, platform, sensor, bearer, engine, ring, tx, rx) {}

  static NodeConfig default_config() {
    NodeConfig c;
    c.node_id = "n1";
    c.hardware = "test";
    c.boot_id = 42;
    c.sample_interval_ms = 100;
    c.report_interval_ms = 250;
    c.batch_max = 4;
    c.ack_timeout_ms = 1000;
    c.telemetry_interval_ms = 10000;
    c.top_k = 3;
    return c;
  }

  // Advances time in 10 ms steps, calling step() each time.
  void run_ms(uint32_t ms) {
    for (uint32_t t = 0; t < ms; t += 10) {
      platform.ms += 10;
      node.step();
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
};

TEST(Node, HelloOnConnectThenBatchedResults) {
  Rig rig;
  rig.node.step();
  ASSERT_FALSE(rig.bearer.sent.empty());
  const tinyedge_v1_Uplink& hello = rig.bearer.sent[0];
  ASSERT_EQ(hello.which_payload, tinyedge_v1_Uplink_hello_tag);
  EXPECT_STREQ(hello.payload.hello.hardware, "test");
  EXPECT_EQ(hello.payload.hello.model_id, 7u);
  EXPECT_EQ(hello.payload.hello.model_version, 3u);
  EXPECT_STREQ(hello.payload.hello.model_name, "fake");
  EXPECT_EQ(hello.boot_id, 42u);
  EXPECT_STREQ(hello.node_id, "n1");

  rig.run_ms(1000);
  EXPECT_EQ(rig.bearer.undecodable, 0);
  const std::vector<uint32_t> seqs = rig.bearer.result_seqs();
  ASSERT_GE(seqs.size(), 8u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1) << "seqs start at 1 and are contiguous";
  // The report interval batches ~2-3 results per uplink rather than one each.
  EXPECT_LT(rig.bearer.count(tinyedge_v1_Uplink_results_tag), seqs.size());
  for (const auto& m : rig.bearer.sent) {
    if (m.which_payload != tinyedge_v1_Uplink_results_tag) continue;
    EXPECT_EQ(m.payload.results.model_id, 7u);
    EXPECT_EQ(m.payload.results.model_version, 3u);
    EXPECT_LE(m.payload.results.results_count, 4u);
    const auto& r = m.payload.results.results[0];
    // CountingSensor's sample n feeds value n-1; FakeEngine makes class (n-1)%4 the winner.
    EXPECT_EQ(r.label, (m.seq - 1) % 4);
    EXPECT_EQ(r.score, 255u);
    EXPECT_EQ(r.runners_up_count, 2u);
    EXPECT_EQ(r.sample_id, m.seq);
  }
}

TEST(Node, ResultsNameTheModelThatMadeThemAcrossAnUpdate) {
  Rig rig;
  rig.bearer.up = false;  // results made by v3 wait in the ring...
  rig.run_ms(500);
  const uint32_t made_by_v3 = rig.node.counters().inferences;
  ASSERT_GT(made_by_v3, 2u);
  rig.engine.version = 4;  // ...while an update activates v4
  rig.run_ms(500);
  rig.bearer.up = true;
  rig.run_ms(1000);

  uint32_t checked = 0;
  for (const auto& m : rig.bearer.sent) {
    if (m.which_payload != tinyedge_v1_Uplink_results_tag) continue;
    for (pb_size_t i = 0; i < m.payload.results.results_count; ++i) {
      const uint32_t seq = m.seq + i;
      EXPECT_EQ(m.payload.results.model_version, seq <= made_by_v3 ? 3u : 4u)
          << "result " << seq << " is reported under the wrong model version";
      ++checked;
    }
  }
  EXPECT_GT(checked, made_by_v3) << "results of both models were sent";
}

TEST(Node, AckFreesRingAndWrongBootAckIsIgnored) {
  Rig rig;
  rig.run_ms(600);
  const size_t stored = rig.ring.size();
  ASSERT_GE(stored, 5u);
  rig.bearer.ack(41, 1000);  // another boot's ack
  rig.node.step();
  EXPECT_EQ(rig.ring.size(), stored);
  rig.bearer.ack(42, 3);
  rig.node.step();
  EXPECT_EQ(rig.ring.size(), stored - 3);
  EXPECT_EQ(rig.ring.at(0).seq, 4u);
}

TEST(Node, ResendsAfterAckTimeout) {
  Rig rig;
  rig.run_ms(500);
  const std::vector<uint32_t> first = rig.bearer.result_seqs();
  ASSERT_FALSE(first.empty());
  rig.bearer.sent.clear();
  rig.run_ms(1700);  // past the 1 s ack timeout (plus at most 50 % jitter) with no ack
  const std::vector<uint32_t> again = rig.bearer.result_seqs();
  ASSERT_FALSE(again.empty());
  EXPECT_NE(std::find(again.begin(), again.end(), 1u), again.end())
      << "the unacknowledged results are sent again from the oldest";
  EXPECT_GE(rig.node.counters().resends, 1u);

  // Acked results are not resent.
  rig.bearer.ack(42, rig.node.counters().next_seq - 1);
  rig.node.step();
  rig.bearer.sent.clear();
  rig.run_ms(90);
  for (uint32_t s : rig.bearer.result_seqs()) EXPECT_GE(s, rig.node.counters().next_seq - 2);
}

TEST(Node, ReconnectSaysHelloAndResendsEverythingUnacked) {
  Rig rig;
  rig.run_ms(400);
  rig.bearer.ack(42, 2);
  rig.bearer.up = false;
  rig.run_ms(500);  // inferences continue while offline
  const uint32_t produced = rig.node.counters().next_seq - 1;
  rig.bearer.sent.clear();
  rig.bearer.up = true;
  rig.run_ms(20);
  ASSERT_FALSE(rig.bearer.sent.empty());
  EXPECT_EQ(rig.bearer.sent[0].which_payload, tinyedge_v1_Uplink_hello_tag);
  EXPECT_EQ(rig.node.counters().reconnects, 1u);
  rig.run_ms(300);
  std::vector<uint32_t> seqs = rig.bearer.result_seqs();
  ASSERT_GE(seqs.size(), produced - 2);
  for (uint32_t s = 3; s <= produced; ++s) EXPECT_EQ(seqs[s - 3], s);
}

TEST(Node, FullRingDropsOldestAndTelemetryCountsIt) {
  NodeConfig c = Rig::default_config();
  c.telemetry_interval_ms = 100000;
  Rig rig(c, 4);
  rig.bearer.up = false;
  rig.run_ms(1000);  // ~10 results into a ring of 4
  EXPECT_EQ(rig.ring.size(), 4u);
  EXPECT_GE(rig.ring.dropped(), 5u);
  rig.bearer.up = true;
  rig.node.step();
  ASSERT_TRUE(rig.node.send_telemetry());
  const tinyedge_v1_Uplink& t = rig.bearer.sent.back();
  ASSERT_EQ(t.which_payload, tinyedge_v1_Uplink_telemetry_tag);
  EXPECT_EQ(t.payload.telemetry.dropped_results, rig.ring.dropped());
  EXPECT_EQ(t.payload.telemetry.pending_results, 4u);
  EXPECT_EQ(t.payload.telemetry.inferences, rig.node.counters().inferences);
  EXPECT_EQ(t.payload.telemetry.free_ram_bytes, 1234u);
  // What is left is the newest four, resent in order.
  const std::vector<uint32_t> seqs = rig.bearer.result_seqs();
  ASSERT_EQ(seqs.size(), 4u);
  EXPECT_EQ(seqs[0], rig.node.counters().next_seq - 4);
}

TEST(Node, PeriodicTelemetry) {
  NodeConfig c = Rig::default_config();
  c.telemetry_interval_ms = 300;
  Rig rig(c);
  rig.run_ms(1000);
  EXPECT_EQ(rig.bearer.count(tinyedge_v1_Uplink_telemetry_tag), 3u);
}

TEST(Node, SmallTxBufferSplitsBatches) {
  // Room for roughly two results per uplink: the node halves the batch until it encodes. Nothing
  // is acked here, so the window must hold every uplink of the run.
  NodeConfig c = Rig::default_config();
  c.max_uplinks_in_flight = 8;
  Rig rig(c, 16, 60);
  rig.run_ms(800);
  const std::vector<uint32_t> seqs = rig.bearer.result_seqs();
  ASSERT_GE(seqs.size(), 6u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);
}

TEST(Node, RefusedSendIsRetried) {
  Rig rig;
  rig.node.step();
  rig.bearer.refuse = true;
  rig.run_ms(500);
  EXPECT_GT(rig.node.counters().send_failures, 0u);
  EXPECT_TRUE(rig.bearer.result_seqs().empty());
  rig.bearer.refuse = false;
  rig.run_ms(100);
  const std::vector<uint32_t> seqs = rig.bearer.result_seqs();
  ASSERT_FALSE(seqs.empty());
  EXPECT_EQ(seqs[0], 1u);
}

TEST(Node, FailedInferenceGetsNoSeq) {
  Rig rig;
  rig.engine.fail = true;
  rig.run_ms(300);
  EXPECT_EQ(rig.node.counters().next_seq, 1u);
  EXPECT_GT(rig.node.counters().failed_inferences, 0u);
  rig.engine.fail = false;
  rig.run_ms(500);
  EXPECT_EQ(rig.bearer.result_seqs().at(0), 1u);
  // The gateway hears of them: Telemetry counts them since boot (the quality gate's error input).
  ASSERT_TRUE(rig.node.send_telemetry());
  EXPECT_EQ(rig.bearer.sent.back().payload.telemetry.failed_inferences, rig.node.counters().failed_inferences);
}

TEST(Node, TelemetryCarriesItsPeriodsInputSumsOnTheModelItRuns) {
  Rig rig;
  // CountingSensor fills all 8 input values of sample n with n - 1: inputs 0, 1, 2.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(rig.node.infer_once());
  ASSERT_TRUE(rig.node.send_telemetry());
  auto t = rig.bearer.sent.back().payload.telemetry;
  EXPECT_EQ(t.input_inferences, 3u);
  EXPECT_EQ(t.input_values, 24u);
  EXPECT_EQ(t.input_sum, 8 * (0 + 1 + 2));
  EXPECT_EQ(t.input_sum_squares, 8u * (0 + 1 + 4));
  // The next period starts from nothing; one the link refused is reported with the next.
  ASSERT_TRUE(rig.node.infer_once());  // input 3
  rig.bearer.refuse = true;
  EXPECT_FALSE(rig.node.send_telemetry());
  rig.bearer.refuse = false;
  ASSERT_TRUE(rig.node.infer_once());  // input 4
  ASSERT_TRUE(rig.node.send_telemetry());
  t = rig.bearer.sent.back().payload.telemetry;
  EXPECT_EQ(t.input_inferences, 2u);
  EXPECT_EQ(t.input_values, 16u);
  EXPECT_EQ(t.input_sum, 8 * (3 + 4));
  EXPECT_EQ(t.input_sum_squares, 8u * (9 + 16));
  // An update activates mid-period: the sums are the new model's inputs only.
  ASSERT_TRUE(rig.node.infer_once());  // input 5, on v3
  rig.engine.version = 4;
  ASSERT_TRUE(rig.node.infer_once());  // input 6, on v4
  ASSERT_TRUE(rig.node.send_telemetry());
  t = rig.bearer.sent.back().payload.telemetry;
  EXPECT_EQ(t.input_inferences, 1u);
  EXPECT_EQ(t.input_sum, 8 * 6);
  EXPECT_EQ(t.input_sum_squares, 8u * 36);
  // A period without inferences reports none (all zero, as an older node's Telemetry).
  ASSERT_TRUE(rig.node.send_telemetry());
  t = rig.bearer.sent.back().payload.telemetry;
  EXPECT_EQ(t.input_inferences + t.input_values + t.input_sum_squares, 0u);
  EXPECT_EQ(t.input_sum, 0);
}

TEST(Node, CommandsAndBadDownlinks) {
  Rig rig;
  tinyedge_v1_Downlink d = tinyedge_v1_Downlink_init_zero;
  d.which_payload = tinyedge_v1_Downlink_command_tag;
  d.payload.command.kind = tinyedge_v1_Command_Kind_SET_REPORT_INTERVAL_MS;
  d.payload.command.value = 5000;
  rig.bearer.push_downlink(d);
  d.payload.command.kind = tinyedge_v1_Command_Kind_REBOOT;
  rig.bearer.push_downlink(d);
  rig.bearer.inbox.push_back({0xFF, 0xFF, 0xFF});  // not a Downlink
  rig.node.step();
  EXPECT_EQ(rig.node.config().report_interval_ms, 5000u);
  EXPECT_EQ(rig.platform.reboots, 1);
  EXPECT_EQ(rig.node.counters().bad_downlinks, 1u);
}

}  // namespace
}  // namespace tinyedge::app
