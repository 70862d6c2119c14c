// OTA over BLE: the gateway's rollout service, OTA server and BLE central against the stand-in for
// bluetoothd (support/fake_bluez.h), whose peripherals run the node app with its real OTA client,
// slot store and runtime. Chunks are cut to the connection's MTU and paced by a window sized from
// it; a connection dropped mid-download resumes at the node's next missing block; a package whose
// signature or payload was tampered with is refused after crossing the same link; the BLE
// counters reach /metrics.
//
// DISABLED_ThroughputByMtuAndInterval prints the figures (not part of the default suite):
//   gateway_ble_ota_test --gtest_also_run_disabled_tests --gtest_filter='*Throughput*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "service/dashboard_wiring.h"
#include "deploy/fleet/api_client.h"
#include "gateway/bearer/ble/ble_ota_shape.h"
#include "gateway/rollout/rollout_runner.h"
#include "node_firmware/app/runtime_self_test.h"
#include "ota/chunk_server.h"
#include "ota/package.h"
#include "ota/payload_identity.h"
#include "ota/reason.h"
#include "ota/sha256.h"
#include "ota/signing_key.h"
#include "protocol/codec.h"
#include "protocol/frame.h"
#include "tests/gateway/support/fake_bluez.h"
#include "tests/gateway/support/in_process_gateway.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/runtime/tiny_model.h"

namespace tinyedge::test {
namespace {

using namespace std::chrono_literals;
using rollout::NodeState;

std::array<uint8_t, 32> key_for(const std::string& node) {
  std::array<uint8_t, 32> key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(node[i % node.size()] * 31 + i * 5);
  return key;
}

void provision(const std::string& key_dir, const std::string& node) {
  std::filesystem::create_directories(key_dir);
  std::ofstream out(key_dir + "/" + node + ".key");
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : key_for(node)) out << kDigits[b >> 4] << kDigits[b & 15];
  out << "\n";
}

template <typename Done>
bool wait_for(Done done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

uint32_t read_u32(const std::vector<uint8_t>& bytes, size_t at) {
  uint32_t value = 0;
  std::memcpy(&value, bytes.data() + at, sizeof value);
  return value;
}

std::vector<uint8_t> tiny_model() {
  return {testing::kTinyModelTem, testing::kTinyModelTem + testing::kTinyModelTemSize};
}

// The tiny model as `version`: the same graph, its header restamped (a real, loadable .tem).
std::vector<uint8_t> tiny_model_as(uint32_t version) {
  auto tem = tiny_model();
  std::memcpy(tem.data() + ota::kTemVersionOffset, &version, sizeof version);
  return tem;
}

ota::Package package_of(const std::vector<uint8_t>& tem, const ota::SigningKey& key) {
  ota::PackageSpec spec;
  spec.model_id = read_u32(tem, ota::kTemModelIdOffset);
  spec.version = read_u32(tem, ota::kTemVersionOffset);
  spec.model_name = "tiny";
  spec.payload = tem;
  spec.arena_bytes = 16 * 1024;
  spec.self_test_input.assign(6 * 6 * 3, 1);  // the tiny graph's 1x6x6x3 input
  // The golden output, as the signer computes it: the model run once through the runtime.
  std::vector<uint64_t> arena(64 * 1024 / 8);
  app::RuntimeSelfTest runtime({reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 8});
  ota::Digest golden{};
  if (runtime.run(tem, spec.self_test_input, golden) != app::SelfTestStatus::kOk)
    throw std::runtime_error("the tiny model does not run its self-test input");
  spec.self_test_output_sha256 = golden;
  spec.created_at = 1700000000;
  return ota::create_package(spec, key);
}

// The gateway with the rollout runner and the dashboard wired in as main.cpp wires them, its BLE
// central on the stand-in's bus.
struct BleOtaRig {
  BleOtaRig(const std::string& name, std::vector<PeripheralSpec> specs)
      : dir(make_temp_dir(name)), fleet_key(ota::SigningKey::generate()) {
    config.data_dir = dir + "/data";
    config.store.path = config.db_path();
    config.mqtt.enabled = false;
    config.bearers = {"ble:hci0?max_connections=20&backoff_min_ms=100&backoff_max_ms=400"};
    config.link_keys = dir + "/link-keys";
    config.api.port = 0;
    config.api.tokens = {
        {"sha256:" + ota::hex(ota::sha256(std::span(reinterpret_cast<const uint8_t*>(kToken), std::strlen(kToken)))),
         "viewer"}};
    std::filesystem::create_directories(config.data_dir);
    std::ofstream(dir + "/fleet.pub") << fleet_key.public_pem();
    for (auto& spec : specs) {
      spec.key = key_for(spec.node_id);
      if (spec.factory_model.empty()) spec.factory_model = tiny_model();
      spec.fleet_keys = {ota::make_trusted_key(fleet_key.public_point())};
      provision(config.link_keys, spec.node_id);
    }
    bluez = std::make_unique<FakeBluez>(dir, specs);
    gw = std::make_unique<InProcessGateway>(config);
    gw->on_io([this](boost::asio::io_context& io, gateway::Gateway& gateway) {
      rollout::RolloutOptions options;
      options.fleet_public_keys = {dir + "/fleet.pub"};
      runner = std::make_unique<rollout::RolloutRunner>(io, gateway, options);
      runner->start();
      dashboard = dashboard::start_dashboard(io, gateway, &runner->control());
    });
    gw->at_stop([this] {
      dashboard->stop();
      runner->stop();
    });
  }
  ~BleOtaRig() { gw->stop(); }

  // Every named node has reported (it is in the node table, so a rollout can target it).
  bool all_known(const std::vector<std::string>& nodes) {
    return wait_for(
        [&] {
          size_t known = 0;
          for (const auto& row : gw->gateway().open_query()->nodes())
            known += std::find(nodes.begin(), nodes.end(), row.node_id) != nodes.end() && row.online;
          return known == nodes.size();
        },
        10s);
  }

  int64_t roll_out(const ota::Package& package, const std::string& target) {
    runner->control().upload_model(ota::encode_package(package));
    rollout::RolloutRequest request;
    request.model_id = ota::manifest_of(package).model_id;
    request.version = ota::manifest_of(package).version;
    request.target = target;
    request.canary = "100%";
    request.waves = "100";
    request.max_failures = "100%";
    request.node_timeout = "60s";
    request.gate.enabled = false;
    return runner->control().start(request).record.id;
  }

  NodeState node_state(int64_t rollout, const std::string& node) {
    for (const auto& n : runner->control().get(rollout, true).nodes)
      if (n.node_id == node) return n.state;
    return NodeState::kPending;
  }

  static constexpr const char* kToken = "ble-ota-viewer";
  std::string dir;
  ota::SigningKey fleet_key;
  gateway::GatewayConfig config;
  std::unique_ptr<FakeBluez> bluez;
  std::unique_ptr<InProcessGateway> gw;
  std::unique_ptr<rollout::RolloutRunner> runner;
  std::unique_ptr<dashboard::DashboardApi> dashboard;
};

PeripheralSpec peripheral(size_t i, const std::string& node, uint16_t mtu, std::chrono::microseconds interval) {
  PeripheralSpec spec;
  char address[18];
  std::snprintf(address, sizeof address, "C0:00:00:00:01:%02X", static_cast<unsigned>(i + 1));
  spec.address = address;
  spec.node_id = node;
  spec.boot_id = 200 + static_cast<uint32_t>(i);
  spec.att_mtu = mtu;
  spec.interval = interval;
  spec.sample_interval_ms = 500;
  return spec;
}

// Answers one node's ChunkRequests from its own ChunkServer (the tampered package the rollout
// service would never serve: the registry verifies what it is given), through the gateway's
// routing and the node's BLE link like any downlink.
class TamperedServer final : public gateway::UplinkObserver {
 public:
  TamperedServer(gateway::Gateway& gateway, std::string node, ota::Package package, uint32_t chunk_bytes)
      : gateway_(gateway), node_(std::move(node)), server_(std::move(package), chunk_bytes) {}
  void on_uplink(const gateway::UplinkContext& context, const tinyedge_v1_Uplink& uplink) override {
    if (context.node_id != node_ || uplink.which_payload != tinyedge_v1_Uplink_chunk_request_tag) return;
    if (auto chunk = server_.answer(uplink.payload.chunk_request)) gateway_.send_downlink(node_, *chunk);
  }
  tinyedge_v1_Downlink offer() const { return server_.offer(); }

 private:
  gateway::Gateway& gateway_;
  std::string node_;
  ota::ChunkServer server_;
};

// One gateway and one bluetoothd stand-in for the whole story, so the suite pays for them once:
//   ota-185   MTU 185, 7.5 ms: the update completes and the node runs the signed model
//   ota-23    MTU 23, 30 ms: its connection drops mid-download; it resumes at its next missing
//             block, and what the gateway sends again is at most one window
//   tampered  offered a package with a forged signature (refused before any download), then one
//             whose payload was changed after signing (downloaded over BLE, refused on its hash)
TEST(GatewayBleOta, UpdateFollowsTheMtuResumesAfterADropAndRefusesTamperedPackages) {
  std::vector<PeripheralSpec> specs{peripheral(0, "ota-185", 185, 7500us), peripheral(1, "ota-23", 23, 30000us),
                                    peripheral(2, "tampered", 247, 15000us)};
  const uint32_t blocks = static_cast<uint32_t>((testing::kTinyModelTemSize + 127) / 128);
  specs[1].drop_after_blocks = blocks / 2;
  BleOtaRig rig("gw-ble-ota", specs);
  ASSERT_TRUE(rig.all_known({"ota-185", "ota-23", "tampered"})) << rig.gw->log_text();

  const auto v1 = tiny_model();
  const uint32_t version = read_u32(v1, ota::kTemVersionOffset) + 1;
  const ota::Package v2 = package_of(tiny_model_as(version), rig.fleet_key);
  const int64_t id = rig.roll_out(v2, "nodes:ota-185,ota-23");

  // The tampered node, meanwhile, is offered the next version (which the rollout does not serve, so
  // only the tampered copy answers its requests): a forged signature first, refused before a
  // chunk is asked for.
  const ota::Package v3 = package_of(tiny_model_as(version + 1), rig.fleet_key);
  ota::Package forged = v3;
  forged.signature.back() ^= 0x01;
  auto tampered = std::make_shared<TamperedServer>(rig.gw->gateway(), "tampered", forged, 512);
  ASSERT_TRUE(rig.gw->gateway().send_downlink("tampered", tampered->offer()));
  ASSERT_TRUE(wait_for([&] { return rig.bluez->state(2).ota_state == tinyedge_v1_OtaState_OTA_REFUSED; }, 5s))
      << "the forged package was not refused\n"
      << rig.gw->log_text();
  EXPECT_EQ(rig.bluez->state(2).ota_reason, static_cast<int>(ota::Reason::kBadSignature));
  EXPECT_EQ(rig.bluez->state(2).ota_blocks_done, 0u) << "nothing is downloaded before the signature is checked";

  // ...then the real manifest and signature over a payload changed after signing.
  ota::Package swapped = v3;
  swapped.payload[swapped.payload.size() / 2] ^= 0x40;
  const uint32_t tampered_chunk = rig.gw->gateway().router().bulk_shape_of("tampered").chunk_bytes;
  EXPECT_EQ(tampered_chunk, 512u) << "ATT MTU 247 carries the largest chunk";
  tampered = std::make_shared<TamperedServer>(rig.gw->gateway(), "tampered", swapped, tampered_chunk);
  rig.gw->on_io([&](boost::asio::io_context&, gateway::Gateway& gateway) { gateway.add_observer(tampered); });
  ASSERT_TRUE(rig.gw->gateway().send_downlink("tampered", tampered->offer()));

  const bool done = wait_for(
      [&] {
        return rig.node_state(id, "ota-185") == NodeState::kActivated &&
               rig.node_state(id, "ota-23") == NodeState::kActivated &&
               rig.bluez->state(2).ota_state == tinyedge_v1_OtaState_OTA_FAILED;
      },
      15s);
  EXPECT_EQ(rig.bluez->error(), "");
  ASSERT_TRUE(done) << "ota-185 " << to_string(rig.node_state(id, "ota-185")) << ", ota-23 "
                    << to_string(rig.node_state(id, "ota-23")) << ", tampered state " << rig.bluez->state(2).ota_state
                    << "\n"
                    << rig.gw->log_text();

  // Both updated nodes run the signed model: active in the slot store and loaded in the engine.
  for (size_t i : {0u, 1u}) {
    const auto s = rig.bluez->state(i);
    EXPECT_EQ(s.active_model_version, version) << specs[i].node_id;
    EXPECT_EQ(s.running_model_version, version) << specs[i].node_id;
    EXPECT_EQ(s.activations, 1u) << specs[i].node_id;
    EXPECT_EQ(s.chunks_rejected, 0u) << specs[i].node_id;
  }
  // The tampered payload crossed the link and was refused on its hash; the old model still runs.
  const auto t = rig.bluez->state(2);
  EXPECT_EQ(t.ota_reason, static_cast<int>(ota::Reason::kHashMismatch));
  EXPECT_EQ(t.active_model_version, version - 1);
  EXPECT_EQ(t.running_model_version, version - 1);

  // Chunks and windows follow each link's MTU.
  const auto shape185 = gateway::ble::ota_shape_for_mtu(185), shape23 = gateway::ble::ota_shape_for_mtu(23);
  EXPECT_EQ(shape23.chunk_bytes, 128u);
  EXPECT_EQ(shape185.chunk_bytes, 512u);
  EXPECT_EQ(rig.bluez->state(0).ota_window, shape185.window);
  EXPECT_EQ(rig.bluez->state(1).ota_window, shape23.window);
  const auto payload = v2.payload.size();
  const auto wire185 = rig.runner->service().wire_stats("ota-185");
  EXPECT_EQ(wire185.chunk_payload_bytes, payload) << "a link that held sends every byte once";
  EXPECT_EQ(wire185.chunks, (payload + 511) / 512);
  // Flow control: bluetoothd never held more writes than a window's worth of chunks beside one
  // whole downlink frame (the offer, with its 1 KB manifest, is the largest; acks and challenges
  // share the link). Without the window it would hold the whole download.
  const auto frame_writes = [](size_t att_mtu) {
    const size_t value = gateway::ble::value_mtu_of(att_mtu);
    return (protocol::max_encoded_frame_size(protocol::kMaxDownlinkBytes) + value - 1) / value;
  };
  EXPECT_LE(rig.bluez->state(0).max_write_queue, shape185.max_backlog + frame_writes(185));
  EXPECT_LE(rig.bluez->state(1).max_write_queue, shape23.max_backlog + frame_writes(23));
  EXPECT_LT(shape23.max_backlog + frame_writes(23), blocks * gateway::ble::writes_per_chunk(128, 23))
      << "the bound above would not tell a paced download from an unpaced one";

  // The dropped node resumed where it stopped: what was sent again is at most one window.
  const auto s23 = rig.bluez->state(1);
  EXPECT_EQ(s23.ota_drops, 1u) << "the connection was not dropped mid-download";
  EXPECT_GE(s23.connections, 2u);
  const auto wire23 = rig.runner->service().wire_stats("ota-23");
  EXPECT_GE(wire23.chunk_payload_bytes, payload);
  EXPECT_LE(wire23.chunk_payload_bytes - payload, uint64_t{shape23.window} * shape23.chunk_bytes)
      << "sent " << wire23.chunk_payload_bytes << " bytes for a " << payload << "-byte payload: the download "
      << "started over instead of resuming";
  std::printf(
      "[ figures  ] ota-23 dropped after %u of %u blocks: %llu payload bytes sent for %zu (%u writes lost "
      "with the link)\n",
      specs[1].drop_after_blocks, blocks, static_cast<unsigned long long>(wire23.chunk_payload_bytes), payload,
      s23.writes_lost);

  // The counters reach /metrics.
  const auto& m = rig.gw->metrics();
  EXPECT_GE(m.ble_ota_bytes.get(), 3 * payload);
  EXPECT_GE(m.ble_reconnects.get(), 1u);
  EXPECT_GT(m.ble_notifications.get(), 0u);
  fleet::ApiClient api("http://127.0.0.1:" + std::to_string(rig.dashboard->port()), BleOtaRig::kToken, 5s);
  const auto metrics = api.get("/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  for (const std::string name :
       {"tinyedge_ble_connections_total", "tinyedge_ble_reconnects_total", "tinyedge_ble_notifications_total",
        "tinyedge_ble_fragments_dropped_total", "tinyedge_ble_devices_refused_total", "tinyedge_ble_ota_bytes_total"}) {
    EXPECT_NE(metrics.body.find("\n" + name + " "), std::string::npos) << name << " missing from /metrics";
  }
  const std::string ota_line = "\ntinyedge_ble_ota_bytes_total " + std::to_string(m.ble_ota_bytes.get()) + "\n";
  EXPECT_NE(metrics.body.find(ota_line), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("\ntinyedge_ble_reconnects_total " + std::to_string(m.ble_reconnects.get())),
            std::string::npos)
      << metrics.body;
}

// Figures: OTA download throughput over the modelled link (payload bytes per second from the
// node's first DOWNLOADING report to its last block), per ATT MTU and connection interval, beside
// the published anchors for MCUmgr/SMP image upload over BLE (about 3-25 kB/s).
TEST(GatewayBleOta, DISABLED_ThroughputByMtuAndInterval) {
  const uint16_t mtus[] = {23, 185, 247};
  const std::chrono::microseconds intervals[] = {7500us, 15000us, 30000us};
  std::vector<PeripheralSpec> specs;
  std::string targets = "nodes:";
  for (size_t m = 0; m < 3; ++m) {
    for (size_t i = 0; i < 3; ++i) {
      auto spec =
          peripheral(specs.size(), "tp-" + std::to_string(mtus[m]) + "-" + std::to_string(intervals[i].count() / 100),
                     mtus[m], intervals[i]);
      spec.sample_interval_ms = 5000;
      targets += (specs.empty() ? "" : ",") + spec.node_id;
      specs.push_back(spec);
    }
  }
  BleOtaRig rig("gw-ble-ota-tp", specs);
  std::vector<std::string> names;
  for (const auto& spec : specs) names.push_back(spec.node_id);
  ASSERT_TRUE(rig.all_known(names)) << rig.gw->log_text();
  // A 24 KB payload that names itself the next version: it crosses the link like any model (the
  // node's self-test refuses it afterwards, which the figure does not include).
  auto payload = tiny_model_as(read_u32(tiny_model(), ota::kTemVersionOffset) + 1);
  payload.resize(24 * 1024, 0x5a);
  ota::PackageSpec spec;
  spec.model_id = read_u32(payload, ota::kTemModelIdOffset);
  spec.version = read_u32(payload, ota::kTemVersionOffset);
  spec.model_name = "throughput";
  spec.payload = payload;
  spec.arena_bytes = 16 * 1024;
  spec.created_at = 1700000000;
  const auto package = ota::create_package(spec, rig.fleet_key);
  rig.roll_out(package, targets);
  ASSERT_TRUE(wait_for(
      [&] {
        for (size_t i = 0; i < specs.size(); ++i)
          if (rig.bluez->state(i).ota_download_us == 0) return false;
        return true;
      },
      120s))
      << rig.gw->log_text();
  std::printf("[ figures  ] OTA over the modelled BLE link, %zu-byte payload (MCUmgr/SMP over BLE: ~3-25 kB/s)\n",
              payload.size());
  std::printf("[ figures  ] ATT MTU  interval  chunk  window  payload B/s\n");
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto s = rig.bluez->state(i);
    const auto shape = gateway::ble::ota_shape_for_mtu(specs[i].att_mtu);
    std::printf("[ figures  ] %7u  %5.1f ms  %5u  %6u  %11.0f\n", specs[i].att_mtu,
                double(specs[i].interval.count()) / 1000.0, shape.chunk_bytes, shape.window,
                double(payload.size()) * 1e6 / double(s.ota_download_us));
  }
}

}  // namespace
}  // namespace tinyedge::test
