// The gateway's BLE central (gateway/bearer/ble) against a stand-in for bluetoothd on a private
// dbus-daemon (support/fake_bluez.h) whose peripherals run the node app over GATT: results land
// in SQLite exactly once through dropped connections, and bad input from a device (garbage
// notifications, a lost fragment, an unknown device, a node id claimed by two devices) is logged,
// counted and stores nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "gateway/store/sqlite/sqlite_query.h"
#include "tests/gateway/support/fake_bluez.h"
#include "tests/gateway/support/in_process_gateway.h"
#include "tests/gateway/support/mosquitto.h"

namespace tinyedge::test {
namespace {

using namespace std::chrono_literals;

std::array<uint8_t, 32> key_for(const std::string& node) {
  std::array<uint8_t, 32> key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(node[i % node.size()] * 29 + i * 7);
  return key;
}

void provision(const std::string& key_dir, const std::string& node) {
  std::filesystem::create_directories(key_dir);
  std::ofstream out(key_dir + "/" + node + ".key");
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : key_for(node)) out << kDigits[b >> 4] << kDigits[b & 15];
  out << "\n";
}

PeripheralSpec peripheral(size_t i, const std::string& node) {
  PeripheralSpec spec;
  char address[18];
  std::snprintf(address, sizeof address, "C0:00:00:00:00:%02X", static_cast<unsigned>(i + 1));
  spec.address = address;
  spec.node_id = node;
  spec.key = key_for(node);
  spec.boot_id = 100 + static_cast<uint32_t>(i);
  return spec;
}

gateway::GatewayConfig ble_config(const std::string& dir, const std::string& bearer) {
  gateway::GatewayConfig config;
  config.data_dir = dir + "/data";
  config.mqtt.enabled = false;
  config.bearers = {bearer};
  config.link_keys = dir + "/link-keys";
  std::filesystem::create_directories(config.link_keys);
  return config;
}

template <typename Done>
bool wait_for(Done done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

// 20 nodes with MTUs 23/185/247 and connection intervals 7.5..30 ms; every fourth one loses its
// connection twice while it reports. Every result is stored once: none lost, none twice.
TEST(GatewayBleBearer, TwentyNodesReportExactlyOnceThroughDisconnects) {
  const std::string dir = make_temp_dir("gw-ble-fleet");
  auto config = ble_config(dir, "ble:hci0?max_connections=20&backoff_min_ms=100&backoff_max_ms=1000");
  constexpr size_t kNodes = 20;
  constexpr uint32_t kResults = 40;
  std::vector<PeripheralSpec> specs;
  const uint16_t mtus[] = {23, 185, 247};
  const std::chrono::microseconds intervals[] = {7500us, 15000us, 30000us};
  for (size_t i = 0; i < kNodes; ++i) {
    auto spec = peripheral(i, "ble-" + std::to_string(i + 1));
    spec.att_mtu = mtus[i % 3];
    spec.interval = intervals[i % 3];
    spec.results = kResults;
    spec.sample_interval_ms = 50;
    provision(config.link_keys, spec.node_id);
    specs.push_back(spec);
  }
  FakeBluez bluez(dir, specs);
  InProcessGateway gw(config);
  ASSERT_TRUE(wait_for([&] { return bluez.discovering(); }, 5s)) << "the central never started discovery\n"
                                                                 << gw.log_text();
  // Drop every fourth node's connection twice while it is reporting.
  for (int round = 0; round < 2; ++round) {
    std::this_thread::sleep_for(700ms);
    for (size_t i = 0; i < kNodes; i += 4) bluez.drop(i);
  }
  const bool drained = wait_for(
      [&] {
        for (size_t i = 0; i < kNodes; ++i) {
          const auto s = bluez.state(i);
          if (s.produced < kResults || s.unacked > 0) return false;
        }
        return true;
      },
      45s);
  EXPECT_EQ(bluez.error(), "");
  std::string unfinished;
  for (size_t i = 0; i < kNodes; ++i) {
    const auto s = bluez.state(i);
    if (s.produced < kResults || s.unacked > 0)
      unfinished += specs[i].node_id + " produced " + std::to_string(s.produced) + " unacked " +
                    std::to_string(s.unacked) + " connections " + std::to_string(s.connections) + "\n";
  }
  ASSERT_TRUE(drained) << unfinished << gw.log_text();
  EXPECT_GE(gw.metrics().ble_disconnects.get(), 10u) << "the dropped connections were not noticed";
  EXPECT_EQ(gw.metrics().decode_errors.get(), 0u) << gw.log_text();
  // Figures: what a result costs on the air, per ATT MTU (everything the node notified, Hello,
  // Telemetry, link proofs and resends included, over the results it made).
  for (size_t m = 0; m < 3; ++m) {
    uint64_t bytes = 0, notifications = 0, results = 0;
    for (size_t i = m; i < kNodes; i += 3) {
      if (i % 4 == 0) continue;  // the dropped ones resend: not the steady state
      const auto s = bluez.state(i);
      bytes += s.notified_bytes;
      notifications += s.notifications;
      results += s.produced;
    }
    std::printf("[ figures  ] ATT MTU %u: %.1f notified bytes and %.2f notifications per result\n", mtus[m],
                double(bytes) / double(results), double(notifications) / double(results));
  }
  gw.stop();
  gateway::SqliteQuery query(config.db_path());
  uint64_t produced = 0;
  for (size_t i = 0; i < kNodes; ++i) produced += bluez.state(i).produced;
  // Each node's ring is empty: all it made was acked, so stored (acks follow commits); the store
  // keeps one row per (node, boot, seq), so the total says none was stored twice either.
  EXPECT_EQ(query.event_count(), produced);
  for (size_t i = 0; i < kNodes; ++i) {
    const auto s = bluez.state(i);
    if (i % 4 == 0) {
      EXPECT_GE(s.connections, 3u) << specs[i].node_id << " was dropped twice and reconnected";
    }
    const auto node = query.node(specs[i].node_id);
    ASSERT_TRUE(node) << specs[i].node_id;
    EXPECT_EQ(node->bearer, "ble:hci0?max_connections=20&backoff_min_ms=100&backoff_max_ms=1000/" + specs[i].address);
  }
}

TEST(GatewayBleBearer, BadInputFromDevicesIsLoggedCountedAndStoresNothing) {
  const std::string dir = make_temp_dir("gw-ble-bad");
  auto config = ble_config(dir, "ble:hci0?backoff_min_ms=100&backoff_max_ms=400");
  std::vector<PeripheralSpec> specs;
  auto good = peripheral(0, "good");
  good.results = 20;
  auto garbage = peripheral(1, "garbage");
  garbage.garbage = true;
  auto lossy = peripheral(2, "lossy");
  lossy.results = 20;
  lossy.lose_notification = 3;               // a fragment of its link proof or first uplink never arrives
  auto unknown = peripheral(3, "stranger");  // advertises the service, has no key at the gateway
  auto clone = peripheral(4, "good");        // claims good's id (with good's key: a cloned device)
  clone.boot_id = 999;
  clone.sample_interval_ms = 10;
  clone.advertise_after = 1500ms;  // good has proven its id by then
  for (const char* node : {"good", "garbage", "lossy"}) provision(config.link_keys, node);
  specs = {good, garbage, lossy, unknown, clone};
  FakeBluez bluez(dir, specs);
  InProcessGateway gw(config);
  ASSERT_TRUE(wait_for(
      [&] {
        const auto g = bluez.state(0), l = bluez.state(2);
        return g.produced >= 20 && g.unacked == 0 && l.produced >= 20 && l.unacked == 0;
      },
      30s))
      << gw.log_text();
  // good walks out of range: its id stays its own, and the clone still may not have it.
  bluez.set_present(0, false);
  EXPECT_TRUE(wait_for([&] { return gw.metrics().ble_identity_conflicts.get() > 0; }, 5s))
      << "the clone was not refused for claiming the id another device proved\n"
      << gw.log_text();
  EXPECT_EQ(bluez.error(), "");
  const auto& m = gw.metrics();
  EXPECT_GT(m.decode_errors.get(), 0u) << "garbage notifications and the lost fragment are bad frames";
  EXPECT_GT(gw.log_lines_with("bad frame"), 0u);
  EXPECT_GT(m.link_proofs_failed.get(), 0u) << "the unknown device has no key\n" << gw.log_text();
  EXPECT_GT(m.links_refused.get(), 0u) << "the clone claimed good's id\n" << gw.log_text();
  EXPECT_GT(gw.log_lines_with("is held by device C0:00:00:00:00:01"), 0u) << gw.log_text();
  EXPECT_GT(gw.log_lines_with("link refused"), 0u) << gw.log_text();
  gw.stop();
  gateway::SqliteQuery query(config.db_path());
  // good's and lossy's results, each once; none of the clone's (it reports as "good", boot 999) and
  // nothing of the others.
  EXPECT_EQ(query.event_count(), uint64_t{bluez.state(0).produced} + bluez.state(2).produced);
  const auto stored_good = query.node("good");
  ASSERT_TRUE(stored_good);
  EXPECT_EQ(stored_good->boot_id, good.boot_id) << "the clone's boot was never stored";
  EXPECT_FALSE(query.node("stranger")) << "nothing of the unknown device is stored";
  EXPECT_FALSE(query.node("garbage"));
}

TEST(GatewayBleBearer, BadBleEntriesAreConfigErrors) {
  const std::string dir = make_temp_dir("gw-ble-config");
  for (const char* entry : {"ble:", "ble:hci0?max_connections=0", "ble:hci0?colour=blue", "ble:../x", "mqtt"}) {
    auto config = ble_config(dir, entry);
    try {
      InProcessGateway gw(config);
      ADD_FAILURE() << entry << " was accepted";
    } catch (const gateway::ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find("bearers"), std::string::npos) << error.what();
    }
  }
}

}  // namespace
}  // namespace tinyedge::test
