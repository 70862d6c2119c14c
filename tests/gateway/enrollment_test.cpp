// Enrollment over the fleet (#16), end to end through real processes: the tinyedge CLI asks the
// real tinyedge-gateway's API, the gateway sends an EnrollCommand over a real mosquitto, a test
// node answers with the node firmware's own EnrollService (its Enroller, class table and flash),
// and the node's answer is stored per node, logged, and printed by the CLI. Refusals (too few
// examples, a label that exists, a caller without the operator role) each reach the CLI with
// their reason; a node's answers, honest or hostile, never touch another node's classes.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "dashboard_api/auth.h"
#include "deploy/fleet/api_client.h"
#include "node_firmware/app/enroll_service.h"
#include "ota/signing_key.h"
#include "protocol/codec.h"
#include "tests/enroll/projection_model.h"
#include "tests/gateway/support/gateway_process.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/gateway/support/sim_node.h"
#include "tests/gateway/support/wire.h"
#include "tests/train/cli_run.h"

namespace tinyedge::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kOperator = "enroll-operator-token";
const std::string kViewer = "enroll-viewer-token";

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The real `tinyedge` with `args`, through the train tests' runner (exit status and output).
train::testing::Run run_cli(const std::string& args) {
  return train::testing::run(std::string(TINYEDGE_CLI_EXE) + " " + args);
}

// Examples by label, as the host node reads them from its image folders.
class MapSource final : public app::ExampleSource {
 public:
  enroll::EnrollStatus capture(std::string_view label, uint32_t index, std::span<int8_t> out) override {
    const auto it = examples.find(std::string(label));
    if (it == examples.end() || (index + 1) * out.size() > it->second.size()) return enroll::EnrollStatus::kBadExamples;
    std::copy_n(it->second.begin() + index * out.size(), out.size(), out.begin());
    return enroll::EnrollStatus::kOk;
  }
  std::map<std::string, std::vector<int8_t>> examples;
};

// The node's enrollment half: the firmware's EnrollService over a real class table in flash,
// answering the gateway's EnrollCommands on the node's MQTT topics.
class EnrollingNode {
 public:
  // `model_byte` fills the installed model's SHA-256 (nodes that share classes must agree on it);
  // shared classes are verified with `package_key`.
  EnrollingNode(const std::string& url, const std::string& id, uint8_t model_byte = 0x11,
                const ota::PublicKey* package_key = nullptr)
      : sim_(url, id, 1, 4) {
    model_sha256_.fill(model_byte);
    if (package_key != nullptr) keys_.push_back(ota::make_trusted_key(*package_key));
    service_.set_share_trust(keys_, model_sha256_.data());
    size_t recomputed;
    EXPECT_EQ(table_.mount(), enroll::EnrollStatus::kOk);
    EXPECT_EQ(enroller_.attach(model_, recomputed), enroll::EnrollStatus::kOk);
    service_.set_model(&model_);
    source_.examples["mug"] = enroll::testing::examples_of(model_, 10, 10, 1);
    source_.examples["pen"] = enroll::testing::examples_of(model_, 11, 10, 2);
    source_.examples["cup"] = enroll::testing::examples_of(model_, 12, 10, 3);
    sim_.on_downlink([this, id](const tinyedge_v1_Downlink& down) {
      if (down.which_payload != tinyedge_v1_Downlink_enroll_tag &&
          down.which_payload != tinyedge_v1_Downlink_enroll_share_tag)
        return;
      std::lock_guard lock(mutex_);
      ++commands_;
      tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
      up.seq = 1000 + commands_;
      up.boot_id = 1;
      std::strncpy(up.node_id, id.c_str(), sizeof up.node_id - 1);
      up.which_payload = tinyedge_v1_Uplink_enrollment_status_tag;
      if (down.which_payload == tinyedge_v1_Downlink_enroll_tag)
        service_.handle(down.payload.enroll, up.payload.enrollment_status);
      else
        service_.handle_share(down.payload.enroll_share, up.payload.enrollment_status);
      std::vector<uint8_t> out(protocol::kMaxUplinkBytes);
      const auto encoded = protocol::encode_uplink(up, out);
      ASSERT_TRUE(encoded.ok);
      out.resize(encoded.size);
      // Published from another thread: a publish that waits for its acknowledgement inside the
      // client's own message callback stalls until the client times it out (seconds per answer).
      answers_.push_back(
          std::async(std::launch::async, [this, id, out] { sim_.publish_raw("tinyedge/v1/" + id + "/up", out); }));
    });
    sim_.connect();
    sim_.publish_raw("tinyedge/v1/" + id + "/up", hello_uplink(id, "host-sim", "emb"));
  }
  SimNode& sim() { return sim_; }
  int commands() {
    std::lock_guard lock(mutex_);
    return commands_;
  }

 private:
  std::array<uint8_t, 32> model_sha256_{};
  std::vector<ota::TrustedKey> keys_;
  std::vector<uint8_t> storage_ = std::vector<uint8_t>(8 * 1024, 0xFF);
  app::MemoryFlash flash_{storage_, 1024, 8};
  enroll::ClassTable table_{flash_, 0, storage_.size()};
  enroll::testing::ProjectionModel model_{1, 7, {1.0f / 64, 0}, 4};
  enroll::Enroller enroller_{table_, enroll::EnrollConfig{}};
  MapSource source_;
  std::vector<int8_t> buffer_ = std::vector<int8_t>(enroll::kMaxExamples * enroll::testing::kInputBytes);
  app::EnrollService service_{enroller_, source_, buffer_};
  std::mutex mutex_;
  int commands_ = 0;
  SimNode sim_;
  std::vector<std::future<void>> answers_;  // after sim_: joined before the client goes
};

TEST(GatewayEnrollment, CliEnrollsThroughTheGatewayAndEveryRefusalReachesTheOperator) {
  const std::string dir = make_temp_dir("gw-enroll");
  Mosquitto broker(dir);
  broker.start();
  const uint16_t api_port = free_port();
  const std::string config = dir + "/gateway.json";
  {
    std::ofstream out(config);
    out << "{\n  \"data_dir\": \"" << dir << "/data\",\n"
        << "  \"mqtt\": {\"url\": \"" << broker.url() << "\", \"client_id\": \"enroll-gw\"},\n"
        << "  \"api\": {\"listen\": \"127.0.0.1\", \"port\": " << api_port
        << ", \"tokens\": [{\"token\": \"sha256:" << dashboard::to_hex(dashboard::sha256(kOperator))
        << "\", \"role\": \"operator\"}, {\"token\": \"sha256:" << dashboard::to_hex(dashboard::sha256(kViewer))
        << "\", \"role\": \"viewer\"}]}\n}\n";
  }
  const std::string log = dir + "/gateway.log";
  GatewayProcess gateway(TINYEDGE_GATEWAY_EXE, config, log);
  ASSERT_NO_THROW(gateway.start());
  ASSERT_TRUE(wait_port(api_port, 10000)) << "dashboard port never opened; see " << log;
  const std::string url = "http://127.0.0.1:" + std::to_string(api_port);
  const std::string op = " --gateway " + url + " --token " + kOperator;

  // The fleet's package key: the operator signs shares with it, nodes verify with its public half.
  const ota::SigningKey package_key = ota::SigningKey::generate();
  const std::string key_file = dir + "/fleet.key";
  std::ofstream(key_file) << package_key.private_pem();
  const ota::PublicKey package_public = package_key.public_point();
  EnrollingNode cam1(broker.url(), "cam-1", 0x11, &package_public);
  EnrollingNode cam2(broker.url(), "cam-2", 0x11, &package_public);
  EnrollingNode cam3(broker.url(), "cam-3", 0x22, &package_public);  // another embedding model
  fleet::ApiClient viewer(url, kViewer, 5s);
  for (int i = 0; i < 250; ++i) {
    const auto nodes = viewer.get("/api/v1/nodes");
    if (nodes.status == 200 && json::parse(nodes.body)["count"] == 3) break;
    std::this_thread::sleep_for(20ms);
  }

  // Start: the node captures 5 examples, enrolls them and answers; the CLI prints the answer.
  train::testing::Run run = run_cli("enroll start --node cam-1 --label mug --examples 5 --wait 20" + op);
  ASSERT_EQ(run.status, 0) << run.output << "\n" << file_text(log);
  EXPECT_NE(run.output.find("node cam-1 enrolled 'mug' from 5 examples"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("enrolled now: mug"), std::string::npos) << run.output;

  // Refusals, each with the node's reason in the CLI's output and the gateway's log.
  run = run_cli("enroll start --node cam-1 --label mug --examples 5 --wait 20" + op);
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("node cam-1 refused to start 'mug': label already exists"), std::string::npos)
      << run.output;
  run = run_cli("enroll start --node cam-1 --label pen --examples 2 --wait 20" + op);
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("refused to start 'pen': too few examples"), std::string::npos) << run.output;
  run =
      run_cli("enroll start --node cam-1 --label pen --examples 5 --wait 20 --gateway " + url + " --token " + kViewer);
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("403"), std::string::npos) << "a viewer must not enroll: " << run.output;
  run = run_cli("enroll start --node cam-1 --label pen --examples 5 --wait 20 --gateway " + url + " --token nobody");
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("401"), std::string::npos) << "an unknown caller must not enroll: " << run.output;
  run = run_cli("enroll start --node cam-1 --label 'two words' --examples 5" + op);
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("without spaces"), std::string::npos) << run.output;
  EXPECT_EQ(cam1.commands(), 3) << "refused calls must send nothing to the node";
  EXPECT_TRUE(wait_for_lines(log, "result=\"label already exists\"", 1, 5000)) << file_text(log);
  EXPECT_EQ(count_lines(log, "msg=\"enrollment refused\""), 2) << file_text(log);

  ASSERT_EQ(run_cli("enroll start --node cam-1 --label pen --examples 5 --wait 20" + op).status, 0);
  run = run_cli("enroll list --node cam-1 --format csv" + op);
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("mug,0,5,"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("pen,1,5,"), std::string::npos) << run.output;

  // A hostile status from cam-2 (a control character in a label) is dropped; an honest one only
  // ever speaks for cam-2.
  Wire bad_status;
  bad_status.varint(3, 0).bytes(7, std::string("mug\x1b[2J"));
  Wire bad;
  bad.varint(1, 9).varint(2, 1).bytes(3, "cam-2").message(20, bad_status);
  cam2.sim().publish_raw("tinyedge/v1/cam-2/up", bad.data());
  EXPECT_TRUE(wait_for_lines(log, "enrolled label is not printable ASCII", 1, 5000)) << file_text(log);
  ASSERT_EQ(run_cli("enroll start --node cam-2 --label pen --examples 5 --wait 20" + op).status, 0);
  auto r = viewer.get("/api/v1/nodes/cam-1/enrollment");
  ASSERT_EQ(r.status, 200) << r.body;
  json state = json::parse(r.body);
  ASSERT_EQ(state["labels"].size(), 2u) << "cam-2's answers changed cam-1's classes: " << r.body;
  EXPECT_EQ(state["labels"][0]["label"], "mug");
  r = viewer.get("/api/v1/nodes/cam-2/enrollment");
  state = json::parse(r.body);
  ASSERT_EQ(state["labels"].size(), 1u) << r.body;
  EXPECT_EQ(state["labels"][0]["label"], "pen");

  // Remove: the class after it moves up, as in the node's table.
  run = run_cli("enroll remove --node cam-1 --label mug --wait 20" + op);
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("node cam-1 removed 'mug'"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("enrolled now: pen"), std::string::npos) << run.output;
  run = run_cli("enroll remove --node cam-1 --label mug --wait 20" + op);
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("no enrolled class has that label"), std::string::npos) << run.output;
  run = run_cli("enroll list --node cam-1" + op);
  EXPECT_NE(run.output.find("last refusal: remove 'mug': no enrolled class has that label"), std::string::npos)
      << run.output;

  // Share: "cup" learned on cam-1 goes, signed by the operator, to the group of cam-2 (same
  // model: accepts) and cam-3 (another model: refuses); each node's answer in the CLI and the log.
  fleet::ApiClient operator_api(url, kOperator, 5s);
  for (const char* node : {"cam-2", "cam-3"})
    ASSERT_EQ(operator_api.request("PUT", std::string("/api/v1/nodes/") + node + "/groups", R"({"groups":["kitchen"]})")
                  .status,
              200);
  ASSERT_EQ(run_cli("enroll start --node cam-1 --label cup --examples 5 --wait 20" + op).status, 0);
  run = run_cli("enroll share --from cam-1 --label cup --group kitchen --key " + key_file + " --wait 20" + op);
  EXPECT_EQ(run.status, 1) << "one node refused: " << run.output;
  EXPECT_NE(run.output.find("node cam-2: accepted 'cup' from cam-1"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("node cam-3: refused 'cup': shared class was learned with another embedding model"),
            std::string::npos)
      << run.output;
  EXPECT_TRUE(wait_for_lines(log, "result=\"shared class was learned with another embedding model\"", 1, 5000))
      << file_text(log);
  r = viewer.get("/api/v1/nodes/cam-2/enrollment");
  state = json::parse(r.body);
  ASSERT_EQ(state["labels"].size(), 2u) << r.body;
  EXPECT_EQ(state["labels"][1]["label"], "cup") << "cam-2 holds the shared class: " << r.body;
  EXPECT_EQ(json::parse(viewer.get("/api/v1/nodes/cam-3/enrollment").body)["labels"].size(), 0u);

  // A share signed with another key, and one tampered on the way, are refused by the node.
  const std::string stranger_key = dir + "/stranger.key";
  std::ofstream(stranger_key) << ota::SigningKey::generate().private_pem();
  ASSERT_EQ(operator_api.request("PUT", "/api/v1/nodes/cam-3/groups", R"({"groups":[]})").status, 200);
  run = run_cli("enroll share --from cam-1 --label pen --group kitchen --key " + stranger_key + " --wait 20" + op);
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("node cam-2: refused 'pen': shared class unsigned or its signature does not verify"),
            std::string::npos)
      << run.output;
  const std::string cup = json::parse(viewer.get("/api/v1/nodes/cam-1/enrollment").body)["labels"][1]["shared_class"];
  ASSERT_FALSE(cup.empty());
  std::string tampered = cup;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == '0' ? '1' : '0';
  r = operator_api.request(
      "POST", "/api/v1/enrollment/share",
      json{{"group", "kitchen"}, {"shared_class", tampered}, {"signature", "3006020101020101"}}.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(wait_for_lines(log, "shared class unsigned or its signature does not verify", 2, 5000)) << file_text(log);
  EXPECT_EQ(json::parse(viewer.get("/api/v1/nodes/cam-2/enrollment").body)["labels"].size(), 2u);
  EXPECT_EQ(gateway.terminate(), 0);
}

}  // namespace
}  // namespace tinyedge::test
