// The operator's console in a real browser: Debian's chromium, headless, driven by playwright-core
// (browser_check.mjs), against the real tinyedge-gateway executable (rollouts on: a fleet key and
// a rollback key) with a real mosquitto and nodes publishing over MQTT (test publishers speaking
// the node protocol). One gateway and one browser session for every page: the overview, a node, a
// real rollout (two signed, labelled packages uploaded over the API; v2 rolled out, its canary
// nodes reporting v2 results with another label mix; paused by the operator), the model registry,
// unknown ids, a viewer's refused actions, an operator's resume and pause, and the gateway
// restarted under the page (the live stream is lost and comes back). Screenshots are kept as test
// artifacts (dashboard_*.png in the build's test folder).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "dashboard_api/auth.h"
#include "deploy/fleet/api_client.h"
#include "ota/package.h"
#include "ota/signing_key.h"
#include "protocol/codec.h"
#include "tests/dashboard/labelled_tem.h"
#include "tests/gateway/support/gateway_process.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/gateway/support/sim_node.h"

namespace tinyedge::dashboard {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

bool ci() {
  const char* v = std::getenv("CI");
  return v && std::string(v) == "true";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

const std::vector<std::string> kLabels = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

std::string package(const ota::SigningKey& key, uint32_t version) {
  ota::PackageSpec spec;
  spec.model_id = 7;  // what the test publishers report
  spec.version = version;
  spec.model_name = "fashion";
  spec.payload = testing::labelled_tem(7, version, "fashion", kLabels);
  spec.arena_bytes = 6944;
  spec.created_at = 1700000000;
  const auto bytes = ota::encode_package(ota::create_package(spec, key));
  return std::string(bytes.begin(), bytes.end());
}

// A node's Hello as it says it at start: model 7 v1 ("fashion") on host-sim hardware.
std::vector<uint8_t> hello_uplink(const std::string& node_id) {
  tinyedge_v1_Uplink uplink = tinyedge_v1_Uplink_init_zero;
  uplink.seq = 1;
  uplink.boot_id = 1;
  std::strncpy(uplink.node_id, node_id.c_str(), sizeof uplink.node_id - 1);
  uplink.which_payload = tinyedge_v1_Uplink_hello_tag;
  auto& h = uplink.payload.hello;
  std::strncpy(h.hardware, "host-sim", sizeof h.hardware - 1);
  h.firmware_version = 1;
  h.model_id = 7;
  h.model_version = 1;
  h.slot_bytes = 1 << 20;
  h.arena_bytes = 1 << 16;
  std::strncpy(h.model_name, "fashion", sizeof h.model_name - 1);
  std::vector<uint8_t> out(protocol::kMaxUplinkBytes);
  const auto encoded = protocol::encode_uplink(uplink, out);
  if (!encoded.ok) throw std::runtime_error("encode_uplink failed");
  out.resize(encoded.size);
  return out;
}

// A node's Telemetry (counters since boot `boot_id`) and OtaStatus, as its firmware sends them.
std::vector<uint8_t> encode(tinyedge_v1_Uplink& uplink, const std::string& node_id, uint32_t boot_id, uint32_t seq) {
  uplink.seq = seq;
  uplink.boot_id = boot_id;
  std::strncpy(uplink.node_id, node_id.c_str(), sizeof uplink.node_id - 1);
  std::vector<uint8_t> out(protocol::kMaxUplinkBytes);
  const auto encoded = protocol::encode_uplink(uplink, out);
  if (!encoded.ok) throw std::runtime_error("encode_uplink failed");
  out.resize(encoded.size);
  return out;
}

std::vector<uint8_t> telemetry_uplink(const std::string& node_id, uint32_t boot_id, uint32_t seq, uint32_t failed,
                                      uint32_t reconnects) {
  tinyedge_v1_Uplink uplink = tinyedge_v1_Uplink_init_zero;
  uplink.which_payload = tinyedge_v1_Uplink_telemetry_tag;
  auto& t = uplink.payload.telemetry;
  t.uptime_s = 60 * seq;
  t.inferences = 100 * seq;
  t.free_ram_bytes = 20000;
  t.last_latency_us = 1500;
  t.failed_inferences = failed;
  t.reconnects = reconnects;
  return encode(uplink, node_id, boot_id, seq);
}

std::vector<uint8_t> ota_status_uplink(const std::string& node_id, tinyedge_v1_OtaState state, uint32_t written) {
  tinyedge_v1_Uplink uplink = tinyedge_v1_Uplink_init_zero;
  uplink.which_payload = tinyedge_v1_Uplink_ota_status_tag;
  auto& o = uplink.payload.ota_status;
  o.model_id = 7;
  o.version = 2;
  o.state = state;
  o.bytes_written = written;
  o.total_bytes = 4096;
  o.active_version = 1;
  return encode(uplink, node_id, 1, 5000 + written);
}

// The gateway executable as the service runs it, with rollouts on.
class Gateway {
 public:
  Gateway(std::string dir, uint16_t port) : dir_(std::move(dir)), port_(port) {}
  ~Gateway() { stop(); }
  bool start() {
    pid_ = test::spawn({TINYEDGE_GATEWAY_EXE, "--config", dir_ + "/gateway.json", "--fleet-key", dir_ + "/fleet.pub",
                        "--rollback-key", dir_ + "/rollback.key"},
                       dir_ + "/gateway.log");
    ++starts_;
    return test::wait_port(port_, 10000) && test::wait_for_lines(dir_ + "/gateway.log", "subscribed", starts_, 10000);
  }
  int stop() {
    if (pid_ <= 0) return 0;
    const int status = test::stop_process(pid_, SIGTERM, 10000);
    pid_ = -1;
    return status;
  }

 private:
  std::string dir_;
  uint16_t port_;
  pid_t pid_ = -1;
  int starts_ = 0;
};

TEST(DashboardBrowser, OperatorConsoleInChromium) {
  const std::string chromium = "/usr/bin/chromium";
  const std::string modules = TINYEDGE_NPM_DIR "/node_modules/playwright-core";
  for (const auto& [path, what] : {std::pair{chromium, "Debian's chromium (scripts/setup installs it)"},
                                   std::pair{modules, "playwright-core (the dashboard_npm build step installs it)"}}) {
    if (!fs::exists(path)) {
      if (ci()) FAIL() << what << " is missing at " << path;
      GTEST_SKIP() << what << " is missing at " << path;
    }
  }
  if (std::system("command -v node >/dev/null 2>&1") != 0) {
    if (ci()) FAIL() << "node is not installed";
    GTEST_SKIP() << "node is not installed";
  }

  const std::string dir = test::make_temp_dir("dash-browser");
  test::Mosquitto broker(dir);
  broker.start();

  const std::string viewer = "browser-test-viewer-token", operator_token = "browser-test-operator-token";
  const auto fleet = ota::SigningKey::generate();
  write_file(dir + "/fleet.pub", fleet.public_pem());
  write_file(dir + "/rollback.key", ota::SigningKey::generate().private_pem());
  const uint16_t api_port = test::free_port();
  write_file(dir + "/gateway.json",
             "{\n  \"data_dir\": \"" + dir + "/data\",\n" + "  \"mqtt\": {\"url\": \"" + broker.url() +
                 "\", \"client_id\": \"dash-browser-gw\"},\n" + "  \"api\": {\"listen\": \"127.0.0.1\", \"port\": " +
                 std::to_string(api_port) + ", \"tokens\": [{\"token\": \"sha256:" + to_hex(sha256(viewer)) +
                 "\", \"role\": \"viewer\"}, {\"token\": \"sha256:" + to_hex(sha256(operator_token)) +
                 "\", \"role\": \"operator\"}]}\n}\n");
  Gateway gateway(dir, api_port);
  ASSERT_TRUE(gateway.start()) << "the gateway did not start; see " << dir << "/gateway.log";
  const std::string url = "http://127.0.0.1:" + std::to_string(api_port);

  std::vector<std::unique_ptr<test::SimNode>> nodes;
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back("cam-" + std::to_string(i));
    nodes.push_back(std::make_unique<test::SimNode>(broker.url(), ids.back(), 1, 8));
    nodes.back()->connect();
    nodes.back()->publish_raw("tinyedge/v1/" + ids.back() + "/up", hello_uplink(ids.back()));
    nodes.back()->produce(40);
  }
  for (int i = 0; i < 200 && !std::all_of(nodes.begin(), nodes.end(), [](auto& n) { return n->all_acked(); }); ++i)
    std::this_thread::sleep_for(50ms);
  for (auto& n : nodes) ASSERT_TRUE(n->all_acked()) << n->node_id() << " results were not stored";

  // The registry: v1 (what the nodes run) and v2, signed with the fleet key, labelled.
  fleet::ApiClient op(url, operator_token, 10s);
  auto r = op.request("POST", "/api/v1/models", package(fleet, 1), "application/octet-stream");
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t v1_ref = json::parse(r.body)["id"].get<int64_t>();
  r = op.request("POST", "/api/v1/models", package(fleet, 2), "application/octet-stream");
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t v2_ref = json::parse(r.body)["id"].get<int64_t>();
  // A real rollout of v2 to the fleet: canary of two, then half, then all.
  r = op.request("POST", "/api/v1/rollouts",
                 json{{"model_id", 7}, {"version", 2}, {"target", "all"}, {"canary", "2"}, {"waves", "50,100"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t rollout = json::parse(r.body)["id"].get<int64_t>();
  r = op.get("/api/v1/rollouts/" + std::to_string(rollout));
  ASSERT_EQ(r.status, 200) << r.body;
  // The canary's nodes report v2 results whose label mix leans to label 3 (Dress).
  std::vector<std::string> canary;
  const json view = json::parse(r.body);
  for (const auto& n : view["nodes"])
    if (n["phase"] == 0) canary.push_back(n["node_id"]);
  ASSERT_EQ(canary.size(), 2u) << r.body;
  for (const auto& id : canary) {
    auto& node = *nodes[std::stoi(id.substr(4))];
    for (uint32_t k = 0; k < 60; ++k) {
      const uint32_t seq = 1003 + 10 * k;  // label_for(seq) == 3
      node.publish_raw("tinyedge/v1/" + id + "/up", test::results_uplink(id, 1, seq, 1, 2));
    }
  }
  // A node outside the canary reports telemetry over two boots (one reboot; 3 failed inferences
  // and 2 reconnects in the second), a canary node its download of v2.
  std::string watched;
  for (const auto& id : ids)
    if (watched.empty() && std::find(canary.begin(), canary.end(), id) == canary.end()) watched = id;
  auto& w = *nodes[std::stoi(watched.substr(4))];
  w.publish_raw("tinyedge/v1/" + watched + "/up", telemetry_uplink(watched, 1, 900, 1, 0));
  w.publish_raw("tinyedge/v1/" + watched + "/up", telemetry_uplink(watched, 2, 1, 0, 1));
  w.publish_raw("tinyedge/v1/" + watched + "/up", telemetry_uplink(watched, 2, 2, 3, 2));
  // #16: the watched node has learned "mug" on the device; its node page lists the class.
  {
    tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
    up.seq = 900;
    up.boot_id = 1;
    std::strncpy(up.node_id, watched.c_str(), sizeof up.node_id - 1);
    up.which_payload = tinyedge_v1_Uplink_enrollment_status_tag;
    auto& status = up.payload.enrollment_status;
    status.action = tinyedge_v1_EnrollCommand_Action_START;
    std::strncpy(status.label, "mug", sizeof status.label - 1);
    status.examples_used = 5;
    status.distance_q14 = 9000;
    std::strncpy(status.nearest_label, "Bag", sizeof status.nearest_label - 1);
    status.enrolled_count = 1;
    std::strncpy(status.enrolled[0], "mug", sizeof status.enrolled[0] - 1);
    std::vector<uint8_t> bytes(protocol::kMaxUplinkBytes);
    const auto encoded = protocol::encode_uplink(up, bytes);
    ASSERT_TRUE(encoded.ok);
    bytes.resize(encoded.size);
    w.publish_raw("tinyedge/v1/" + watched + "/up", bytes);
  }
  auto& c0 = *nodes[std::stoi(canary[0].substr(4))];
  c0.publish_raw("tinyedge/v1/" + canary[0] + "/up", ota_status_uplink(canary[0], tinyedge_v1_OtaState_OTA_DOWNLOADING, 1024));
  c0.publish_raw("tinyedge/v1/" + canary[0] + "/up", ota_status_uplink(canary[0], tinyedge_v1_OtaState_OTA_DOWNLOADING, 2048));
  for (int i = 0; i < 100; ++i) {
    const auto t = op.get("/api/v1/nodes/" + watched + "/telemetry");
    const auto o = op.get("/api/v1/nodes/" + canary[0] + "/ota");
    const auto e = op.get("/api/v1/nodes/" + watched + "/enrollment");
    if (t.status == 200 && json::parse(t.body)["telemetry"].size() == 3 && o.status == 200 &&
        json::parse(o.body)["ota"].size() == 2 && e.status == 200 && e.body.find("\"mug\"") != std::string::npos)
      break;
    std::this_thread::sleep_for(50ms);
  }
  r = op.request("POST", "/api/v1/rollouts/" + std::to_string(rollout) + "/pause");
  ASSERT_EQ(r.status, 200) << r.body;
  for (int i = 0; i < 100; ++i) {
    r = op.get("/api/v1/events?node=" + canary[1] + "&limit=100");
    if (r.status == 200 && json::parse(r.body)["count"] == 100) break;
    std::this_thread::sleep_for(50ms);
  }

  // One node keeps reporting while the page is open: the live log must show it. Once a second: at
  // three a second a loaded machine's slow browser start let it fill the whole first page of the
  // log, and the overview's check for several nodes in the unfiltered log saw only it.
  std::atomic<bool> done{false};
  std::thread live([&] {
    while (!done) {
      nodes[5]->produce(1);
      std::this_thread::sleep_for(1s);
    }
  });

  const std::string shots = TINYEDGE_ARTIFACT_DIR;
  for (const auto* name : {"browser", "node", "rollout", "models", "model", "not_found", "rollout_operator"})
    fs::remove(shots + "/dashboard_" + name + ".png");
  const std::string control = dir + "/control";
  fs::create_directories(control);
  // ES modules resolve packages from the script's own folder: run it beside node_modules.
  fs::copy_file(TINYEDGE_SOURCE_DIR "/browser_check.mjs", TINYEDGE_NPM_DIR "/browser_check.mjs",
                fs::copy_options::overwrite_existing);
  std::vector<std::string> args = {"/bin/sh", "-c",
                                   "cd '" TINYEDGE_NPM_DIR "' && exec node browser_check.mjs \"$@\"", "sh",
                                   url + "/", viewer, operator_token, shots, watched, std::to_string(rollout),
                                   std::to_string(v1_ref), std::to_string(v2_ref), canary[0], control};
  args.insert(args.end(), ids.begin(), ids.end());
  const pid_t browser = test::spawn(args, dir + "/browser.log");
  // The script asks for the gateway to go away under the page (a lost live connection).
  int status = -1;
  bool restarted = false;
  const auto deadline = std::chrono::steady_clock::now() + 150s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(browser, &status, WNOHANG) == browser) break;
    if (!restarted && fs::exists(control + "/restart-gateway")) {
      restarted = true;
      EXPECT_EQ(gateway.stop(), 0);
      std::this_thread::sleep_for(500ms);
      EXPECT_TRUE(gateway.start()) << "the gateway did not restart; see " << dir << "/gateway.log";
      write_file(control + "/gateway-restarted", "");
    }
    std::this_thread::sleep_for(20ms);
  }
  done = true;
  live.join();
  const std::string output = read_file(dir + "/browser.log");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  EXPECT_TRUE(restarted) << "the browser check never reached the lost-connection step\n" << output;
  std::printf("%s", output.c_str());
  for (const auto* name : {"browser", "node", "rollout", "models", "model", "not_found", "rollout_operator"}) {
    const std::string shot = shots + "/dashboard_" + std::string(name) + ".png";
    EXPECT_TRUE(fs::exists(shot) && fs::file_size(shot) > 10'000) << "no screenshot at " << shot;
  }
  EXPECT_EQ(gateway.stop(), 0);
}

}  // namespace
}  // namespace tinyedge::dashboard
