// Bad input on MQTT: each kind is counted, logged once, dropped, and the gateway keeps serving.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "gateway/ingest/uplink_validator.h"
#include "gateway/store/sqlite/sqlite_query.h"
#include "tests/gateway/support/in_process_gateway.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/gateway/support/sim_node.h"
#include "tests/gateway/support/wire.h"

namespace tinyedge::test {
namespace {

using namespace std::chrono_literals;

TEST(GatewayBadInput, EachBadMessageIsCountedLoggedOnceDroppedAndServiceContinues) {
  const std::string dir = make_temp_dir("gw-bad");
  Mosquitto broker(dir);
  gateway::GatewayConfig config;
  config.data_dir = dir + "/data";
  config.mqtt.url = broker.url();
  config.mqtt.client_id = "gw-bad-input";
  InProcessGateway gw(config);
  ASSERT_TRUE(gw.wait_log("msg=subscribed", 1, 10000)) << gw.log_text();

  SimNode evil(broker.url(), "evil", 1, 4);
  evil.connect();
  const std::string up = "tinyedge/v1/evil/up";

  // Check locally that each payload really is the kind of bad it claims to be.
  static tinyedge_v1_Uplink scratch;
  std::mt19937 rng(1234);
  std::vector<uint8_t> random(64);
  for (auto& b : random) b = static_cast<uint8_t>(rng());
  ASSERT_EQ(gateway::check_uplink(random, "evil", scratch).error, gateway::UplinkError::kDecode);
  auto truncated = results_uplink("evil", 1, 1, 16);
  truncated.resize(truncated.size() / 2);
  ASSERT_EQ(gateway::check_uplink(truncated, "evil", scratch).error, gateway::UplinkError::kDecode);
  auto oversized = results_uplink("evil", 1, 1, 16);
  oversized.resize(protocol::kMaxUplinkBytes + 100, 0x08);
  ASSERT_EQ(gateway::check_uplink(oversized, "evil", scratch).error, gateway::UplinkError::kOversized);
  const auto impostor = results_uplink("victim", 1, 1, 4);

  evil.publish_raw(up, random);
  evil.publish_raw(up, truncated);
  evil.publish_raw(up, oversized);
  evil.publish_raw(up, impostor);  // evil speaking for victim
  evil.publish_raw(up, {});
  evil.publish_raw("tinyedge/v1/evil/state", {'m', 'a', 'y', 'b', 'e'});

  // The gateway still serves a well-behaved node afterwards.
  SimNode good(broker.url(), "good", 3, 5);
  good.connect();
  good.produce(20);
  const auto until = std::chrono::steady_clock::now() + 15s;
  while (!good.all_acked() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(good.all_acked()) << "good node acked " << good.acked_through() << "/20\n" << gw.log_text();

  const auto m = gw.metrics().snapshot();
  EXPECT_EQ(m.decode_errors, 5u) << "random, truncated, oversized, empty, bad state payload";
  EXPECT_EQ(m.oversized, 1u);
  EXPECT_EQ(m.identity_mismatches, 1u);
  EXPECT_EQ(m.events_stored, 20u);
  EXPECT_EQ(gw.log_lines_with("problem=\"undecodable uplink\""), 2u) << gw.log_text();
  EXPECT_EQ(gw.log_lines_with("problem=\"oversized payload\""), 1u);
  EXPECT_EQ(gw.log_lines_with("problem=\"identity mismatch\""), 1u);
  EXPECT_EQ(gw.log_lines_with("claimed_node=victim"), 1u);
  EXPECT_EQ(gw.log_lines_with("problem=\"empty payload\""), 1u);
  EXPECT_EQ(gw.log_lines_with("msg=\"dropped state message\""), 1u);
  gw.stop();

  gateway::SqliteQuery query(config.db_path());
  EXPECT_FALSE(query.node("victim")) << "an impostor's uplink must not create the node it claims";
  gateway::EventFilter f;
  f.node_id = "evil";
  EXPECT_TRUE(query.events(f).events.empty());
  EXPECT_EQ(query.event_count(), 20u);
}

// Scores are bytes and labels index a label table of at most 65535 entries (tinyedge.proto,
// node_firmware/runtime/tem_format.h); OtaStatus enums are closed sets. A value outside them is
// refused with its reason and counted, and an unknown OTA state never moves the recorded model.
TEST(GatewayBadInput, ScoresLabelsAndOtaStatesOutOfRangeAreRefused) {
  const std::string dir = make_temp_dir("gw-range");
  Mosquitto broker(dir);
  gateway::GatewayConfig config;
  config.data_dir = dir + "/data";
  config.mqtt.url = broker.url();
  config.mqtt.client_id = "gw-range";
  InProcessGateway gw(config);
  ASSERT_TRUE(gw.wait_log("msg=subscribed", 1, 10000)) << gw.log_text();

  SimNode node(broker.url(), "ranged", 1, 4);
  node.connect();
  const std::string up = "tinyedge/v1/ranged/up";
  node.publish_raw(up, hello_uplink("ranged", "host-sim", "kws", 3));
  node.publish_raw(up, one_result_uplink("ranged", 5, 1, 2, 100000));              // score 100000
  node.publish_raw(up, one_result_uplink("ranged", 5, 2, 0xFFFFFFFFu, 10));        // label 2^32-1
  node.publish_raw(up, one_result_uplink("ranged", 5, 3, 65535, 10));              // one past any table
  node.publish_raw(up, one_result_uplink("ranged", 5, 4, 1, 10, 2, 256, true));    // runner-up score
  node.publish_raw(up, one_result_uplink("ranged", 5, 5, 1, 10, 70000, 5, true));  // runner-up label
  node.publish_raw(up, ota_status_uplink("ranged", 99, 0, 9, 9));                  // state 99, "now running v9"
  node.publish_raw(up, ota_status_uplink("ranged", 4, 1000, 9, 9));                // ACTIVATED, reason 1000
  // Telemetry input sums at the edges of what int8 tensors give are fine (sent first: the
  // refusals below are waited for, so these are in by then)...
  node.publish_raw(up, telemetry_uplink("ranged", 10, 2, 980, -128 * 980, 16384ull * 980));  // all -128
  node.publish_raw(up, telemetry_uplink("ranged", 10, 10, 4900, 4900 * 10, 4900 * 100));     // all 10: variance 0
  // ...sums no int8 tensors add up to are refused whole, naming the field.
  node.publish_raw(up, telemetry_uplink("ranged", 10, 0, 490, 5, 25));               // sums without inferences
  node.publish_raw(up, telemetry_uplink("ranged", 10, 11, 11 * 490, 0, 0));          // more than since boot
  node.publish_raw(up, telemetry_uplink("ranged", 10, 2, 981, 0, 0));                // not whole tensors
  node.publish_raw(up, telemetry_uplink("ranged", 10, 2, 980, -129 * 980, 0));       // mean below -128
  node.publish_raw(up, telemetry_uplink("ranged", 10, 2, 980, 0, 16385ull * 980));   // mean square above 128^2
  node.publish_raw(up, telemetry_uplink("ranged", 10, 2, 980, 980 * 10, 980 * 99));  // variance -1
  // The edges of each range are fine.
  node.publish_raw(up, one_result_uplink("ranged", 5, 6, 65534, 255, 0, 255, true));

  ASSERT_TRUE(gw.wait_log("problem=\"unknown ota status\"", 2, 10000)) << gw.log_text();
  EXPECT_EQ(gw.log_lines_with("problem=\"score out of range\""), 2u) << gw.log_text();
  EXPECT_EQ(gw.log_lines_with("problem=\"label out of range\""), 3u) << gw.log_text();
  EXPECT_EQ(gw.log_lines_with("detail=\"result score above 255\""), 1u);
  EXPECT_EQ(gw.log_lines_with("detail=\"runner-up label at or above 65535\""), 1u);
  EXPECT_EQ(gw.log_lines_with("detail=\"state is not an OtaState\""), 1u);
  EXPECT_EQ(gw.log_lines_with("detail=\"reason is not an OtaReason\""), 1u);
  ASSERT_TRUE(gw.wait_log("problem=\"bad input statistics\"", 6, 10000)) << gw.log_text();
  for (const char* field : {"telemetry.input_inferences is 0 but input sums are given",
                            "telemetry.input_inferences exceeds the inferences since boot",
                            "telemetry.input_values is not a whole number of input tensors of input_inferences",
                            "telemetry.input_sum is beyond 128 x input_values",
                            "telemetry.input_sum_squares is beyond 128^2 x input_values",
                            "telemetry.input_sum_squares is below input_sum^2 / input_values (a negative variance)"})
    EXPECT_EQ(gw.log_lines_with("detail=\"" + std::string(field) + "\""), 1u) << field << "\n" << gw.log_text();
  EXPECT_EQ(gw.metrics().invalid_fields.get(), 13u);
  for (int i = 0; i < 500 && gw.metrics().events_stored.get() < 1; ++i) std::this_thread::sleep_for(10ms);
  gw.stop();

  gateway::SqliteQuery query(config.db_path());
  gateway::EventFilter f;
  f.node_id = "ranged";
  const auto events = query.events(f).events;
  ASSERT_EQ(events.size(), 1u) << "only the in-range result may be stored";
  EXPECT_EQ(events[0].seq, 6u);
  EXPECT_EQ(events[0].label, 65534u);
  EXPECT_EQ(events[0].score, 255u);
  const auto row = query.node("ranged");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->model_version, 3u) << "an OtaStatus with an unknown state or reason moved the recorded version";
  // Only the two telemetry messages whose sums real inputs can give were stored.
  const auto telemetry = query.telemetry("ranged", 100);
  EXPECT_EQ(telemetry.size(), 2u) << "a refused Telemetry was stored";
}

}  // namespace
}  // namespace tinyedge::test
