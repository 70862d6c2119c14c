// A camera node learns a class on the device (#16), end to end through real processes: the real
// tinyedge-node replays frames (--images) through an image embedding model it runs by nearest
// prototype, the operator's `tinyedge enroll start` goes through the real tinyedge-gateway and a
// real mosquitto, the node enrolls the first N frames of --enroll-from DIR/<label>/ and from then
// on its frames of that class are named by the label in /api/v1/events. Folders it cannot use are
// refused: the CLI prints the reason, the node's log names the folder or file.
#include <gtest/gtest.h>
#include <pb_encode.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "dashboard_api/auth.h"
#include "deploy/fleet/api_client.h"
#include "node_firmware/camera/image_file.h"
#include "ota/package.h"
#include "ota/signing_key.h"
#include "tests/enroll/pattern_model.h"
#include "tests/gateway/support/gateway_process.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/node/process.h"
#include "tests/train/cli_run.h"
#include "tinyedge.pb.h"

namespace tinyedge::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using enroll::testing::kBlocks;
using enroll::testing::kHalves;
using enroll::testing::kStripes;

std::string text_of(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string hex_of(std::span<const uint8_t> bytes) {
  std::string out;
  char two[3];
  for (uint8_t b : bytes) {
    std::snprintf(two, sizeof two, "%02x", b);
    out += two;
  }
  return out;
}

train::testing::Run cli(const std::string& args) {
  return train::testing::run(std::string(TINYEDGE_CLI_EXE) + " " + args);
}

void write_frame(const fs::path& path, const std::vector<uint8_t>& pixels, uint32_t side = enroll::testing::kSide) {
  camera::write_png(path, camera::DecodedImage{{side, side, 1}, pixels});
}

// The node's results as /api/v1/events names them: "label_name@model_version" ("#index" unnamed).
std::vector<std::string> named_results(fleet::ApiClient& api, const std::string& node) {
  const auto r = api.get("/api/v1/events?node=" + node + "&limit=100");
  if (r.status != 200) return {"HTTP " + std::to_string(r.status) + ": " + r.body};
  const nlohmann::json page = nlohmann::json::parse(r.body);
  std::vector<std::string> out;
  for (const auto& e : page["events"])
    out.push_back((e["label_name"].is_string() ? e["label_name"].get<std::string>()
                                               : "#" + std::to_string(e["label"].get<int>())) +
                  "@" + std::to_string(e["model_version"].get<int>()));
  return out;
}

TEST(GatewayEnrollment, ACameraNodeEnrollsFramesOfAClassItsEmbeddingNeverSawAndNamesThem) {
  const fs::path dir = make_temp_dir("image-enroll");
  const std::string op_token = "image-enroll-operator";
  train::testing::Run run = cli("keys generate --out " + (dir / "fleet").string());
  ASSERT_EQ(run.status, 0) << run.output;
  {
    const std::vector<uint8_t> tem = enroll::testing::pattern_model_tem();
    ASSERT_FALSE(tem.empty()) << "the pattern model did not build";
    std::ofstream(dir / "patterns.tem", std::ios::binary)
        .write(reinterpret_cast<const char*>(tem.data()), static_cast<std::streamsize>(tem.size()));
  }
  run = cli("package create --model " + (dir / "patterns.tem").string() + " --version 1 --key " +
            (dir / "fleet.key").string() + " -o " + (dir / "patterns.tep").string());
  ASSERT_EQ(run.status, 0) << run.output;

  // The camera: stripes (trained), blocks (never trained: enrolled below), halves (never trained).
  fs::create_directories(dir / "cam");
  for (uint32_t i = 0; i < 3; ++i) {
    write_frame(dir / "cam" / ("a" + std::to_string(i) + ".png"), enroll::testing::pattern_frame(kStripes, 10 + i, 20));
    write_frame(dir / "cam" / ("b" + std::to_string(i) + ".png"), enroll::testing::pattern_frame(kBlocks, 20 + i, 20));
  }
  write_frame(dir / "cam" / "c.png", enroll::testing::pattern_frame(kHalves, 30, 20));
  // Enrollment folders: five frames of blocks; three only; one 16x16 frame; one corrupt file.
  const fs::path shots = dir / "shots";
  for (const char* label : {"blocks", "few", "big", "corrupt"}) fs::create_directories(shots / label);
  for (uint32_t i = 0; i < 5; ++i) {
    write_frame(shots / "blocks" / (std::to_string(i) + ".png"), enroll::testing::pattern_frame(kBlocks, 40 + i, 20));
    write_frame(shots / "big" / (std::to_string(i) + ".png"), enroll::testing::pattern_frame(kBlocks, 50 + i, 20));
    write_frame(shots / "corrupt" / (std::to_string(i) + ".png"), enroll::testing::pattern_frame(kBlocks, 60 + i));
  }
  for (uint32_t i = 0; i < 3; ++i)
    write_frame(shots / "few" / (std::to_string(i) + ".png"), enroll::testing::pattern_frame(kBlocks, 70 + i));
  write_frame(shots / "big" / "2.png", std::vector<uint8_t>(16 * 16, 200), 16);
  std::ofstream(shots / "corrupt" / "3.png") << "\x89PNG not really";

  Mosquitto broker(dir.string());
  broker.start();
  const uint16_t api_port = free_port();
  std::string config = text_of(
      write_gateway_config(dir.string(), broker.url(),
                           "\"api\": {\"listen\": \"127.0.0.1\", \"port\": " + std::to_string(api_port) +
                               ", \"tokens\": [{\"token\": \"sha256:" + dashboard::to_hex(dashboard::sha256(op_token)) +
                               "\", \"role\": \"operator\"}]}"));
  {  // the generated config's "api" is switched off; the one above replaces it
    const std::string off = "\"api\": {\"enabled\": false},";
    const auto at = config.find(off);
    ASSERT_NE(at, std::string::npos) << config;
    config.erase(at, off.size());
    std::ofstream(dir / "gateway.json") << config;
  }
  testing::ChildProcess gateway(
      {TINYEDGE_GATEWAY_EXE, "--config", (dir / "gateway.json").string(), "--fleet-key", (dir / "fleet.pub").string()},
      (dir / "gateway.log").string());
  ASSERT_TRUE(wait_port(api_port, 15000)) << "dashboard port never opened: " << text_of(dir / "gateway.log");
  const std::string url = "http://127.0.0.1:" + std::to_string(api_port);
  const std::string op = " --wait 20 --gateway " + url + " --token " + op_token;
  fleet::ApiClient api(url, op_token, 5s);
  // The model in the registry: the gateway names the trained labels and places the enrolled ones.
  const auto package = ota::read_file((dir / "patterns.tep").string());
  const auto uploaded =
      api.request("POST", "/api/v1/models", std::string(package.begin(), package.end()), "application/octet-stream");
  ASSERT_EQ(uploaded.status, 201) << uploaded.body;

  // clang-format off
  testing::ChildProcess node({TINYEDGE_NODE_EXE, "--model", (dir / "patterns.tem").string(),
                              "--images", (dir / "cam").string(), "--enroll-from", shots.string(), "--id", "cam7",
                              "--broker", broker.url(), "--interval-ms", "50", "--report-interval-ms", "100",
                              "--top-k", "1", "--trust-key", (dir / "fleet.pub").string()},
                             (dir / "node.log").string());
  // clang-format on
  const auto seen = [&](const std::string& result, std::chrono::seconds limit) {
    for (const auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;) {
      const auto results = named_results(api, "cam7");
      if (std::find(results.begin(), results.end(), result) != results.end()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  };
  // Before enrolling, stripes frames are stripes and the others nothing the model knows.
  ASSERT_TRUE(seen("#6@1", 15s)) << "no frame classified unknown: "
                                 << ::testing::PrintToString(named_results(api, "cam7")) << "\nnode log:\n"
                                 << text_of(dir / "node.log");
  ASSERT_TRUE(seen("stripes@1", 5s)) << ::testing::PrintToString(named_results(api, "cam7"));
  for (const auto& r : named_results(api, "cam7"))
    EXPECT_TRUE(r == "stripes@1" || r == "#6@1") << "before enrolling, a frame classified as " << r;

  // Folders the node cannot use: the CLI prints the reason, the node's log names the file.
  struct Bad {
    std::string label, reason, logged;
  };
  const std::vector<Bad> bad = {
      {"absent", "examples missing or not model inputs", (shots / "absent").string()},
      {"few", "too few examples", (shots / "few").string() + " holds 3 frames"},
      {"big", "examples missing or not model inputs", "2.png: frame of 16x16 pixels, the model takes 8x8"},
      {"corrupt", "examples missing or not model inputs", (shots / "corrupt" / "3.png").string()},
  };
  for (const auto& b : bad) {
    run = cli("enroll start --node cam7 --label " + b.label + " --examples 5" + op);
    EXPECT_EQ(run.status, 1) << b.label << ": " << run.output;
    EXPECT_NE(run.output.find("refused to start '" + b.label + "': " + b.reason), std::string::npos)
        << b.label << ": " << run.output;
    EXPECT_NE(text_of(dir / "node.log").find(b.logged), std::string::npos)
        << b.label << ": the node's log does not say '" << b.logged << "': " << text_of(dir / "node.log");
  }

  run = cli("enroll start --node cam7 --label blocks --examples 5" + op);
  ASSERT_EQ(run.status, 0) << run.output << "\n" << text_of(dir / "node.log");
  EXPECT_NE(run.output.find("node cam7 enrolled 'blocks' from 5 examples"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("enrolled now: blocks"), std::string::npos)
      << "the bad folders enrolled something: " << run.output;
  EXPECT_TRUE(seen("blocks@1", 15s)) << "the enrolled class is not named in /events: "
                                     << ::testing::PrintToString(named_results(api, "cam7"));

  // An update activated in place (no restart) to another embedding of the same patterns (axes
  // rotated, as a retrain): a shared class must now name the new model. Bound once at boot, the
  // node kept checking shares against the booted model's hash: it took one learned with the old
  // embedding and refused one learned with the new.
  const std::vector<uint8_t> v2 = enroll::testing::pattern_model_tem(2, 1);
  std::ofstream(dir / "patterns2.tem", std::ios::binary)
      .write(reinterpret_cast<const char*>(v2.data()), static_cast<std::streamsize>(v2.size()));
  run = cli("package create --model " + (dir / "patterns2.tem").string() + " --version 2 --key " +
            (dir / "fleet.key").string() + " -o " + (dir / "patterns2.tep").string());
  ASSERT_EQ(run.status, 0) << run.output;
  const auto package2 = ota::read_file((dir / "patterns2.tep").string());
  const auto uploaded2 =
      api.request("POST", "/api/v1/models", std::string(package2.begin(), package2.end()), "application/octet-stream");
  ASSERT_EQ(uploaded2.status, 201) << uploaded2.body;
  const auto rollout = api.request("POST", "/api/v1/rollouts",
                                   nlohmann::json{{"model_id", 17},
                                                  {"version", 2},
                                                  {"target", "nodes:cam7"},
                                                  {"canary", "1"},
                                                  {"waves", "100"},
                                                  {"gate", {{"enabled", false}}}}
                                       .dump());
  ASSERT_EQ(rollout.status, 201) << rollout.body;
  const auto runs_v2 = [&] {
    for (const auto& r : named_results(api, "cam7"))
      if (r.ends_with("@2")) return true;
    return false;
  };
  for (const auto until = std::chrono::steady_clock::now() + 30s;
       !runs_v2() && std::chrono::steady_clock::now() < until;)
    std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(runs_v2()) << "the update never ran: " << api.get("/api/v1/rollouts").body << "\nnode log:\n"
                         << text_of(dir / "node.log");
  ASSERT_EQ(api.request("PUT", "/api/v1/nodes/cam7/groups", R"({"groups":["bench"]})").status, 200);

  // "halves" as another camera learned it with `embedding`, naming `named_model`, fleet-signed.
  const ota::SigningKey fleet_key = ota::SigningKey::from_pem(text_of(dir / "fleet.key"));
  uint64_t sequence = 1;
  const auto share_halves = [&](const std::vector<uint8_t>& embedding, const std::vector<uint8_t>& named_model) {
    tinyedge_v1_SharedClass c = tinyedge_v1_SharedClass_init_zero;
    std::snprintf(c.label, sizeof c.label, "halves");
    const std::vector<int16_t> unit = enroll::testing::pattern_embedding(embedding, kHalves);
    c.prototype_count = static_cast<pb_size_t>(unit.size());
    std::copy(unit.begin(), unit.end(), c.prototype);
    c.threshold_q14 = 13107;  // cosine 0.8, as the model's trained classes
    const ota::Digest sha = ota::sha256(named_model);
    std::copy(sha.begin(), sha.end(), c.model_sha256.bytes);
    c.model_sha256.size = static_cast<pb_size_t>(sha.size());
    c.sequence = sequence++;
    const ota::KeyId id = fleet_key.key_id();
    std::copy(id.begin(), id.end(), c.key_id.bytes);
    c.key_id.size = static_cast<pb_size_t>(id.size());
    uint8_t bytes[tinyedge_v1_SharedClass_size];
    pb_ostream_t out = pb_ostream_from_buffer(bytes, sizeof bytes);
    EXPECT_TRUE(pb_encode(&out, tinyedge_v1_SharedClass_fields, &c));
    const std::span<const uint8_t> signed_bytes(bytes, out.bytes_written);
    const std::string share_body = nlohmann::json{{"group", "bench"},
                                                  {"shared_class", hex_of(signed_bytes)},
                                                  {"signature", hex_of(fleet_key.sign(ota::sha256(signed_bytes)))}}
                                       .dump();
    // The group just set reaches the node list the share is addressed from a moment later.
    auto sent = api.request("POST", "/api/v1/enrollment/share", share_body);
    for (int i = 0; sent.status == 404 && i < 50; ++i) {
      std::this_thread::sleep_for(100ms);
      sent = api.request("POST", "/api/v1/enrollment/share", share_body);
    }
    if (sent.status != 202) return "share not sent: HTTP " + std::to_string(sent.status) + ": " + sent.body;
    const int64_t sent_ms = nlohmann::json::parse(sent.body).value("sent_ms", int64_t{0});
    for (const auto until = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < until;) {
      const nlohmann::json log = nlohmann::json::parse(api.get("/api/v1/nodes/cam7/enrollment?limit=20").body)["log"];
      for (const auto& e : log)
        if (e.value("received_ms", int64_t{0}) >= sent_ms && e.value("action", "") == "share")
          return e.value("ok", false) ? std::string("accepted") : e.value("result", std::string("refused"));
      std::this_thread::sleep_for(100ms);
    }
    return std::string("no answer from cam7");
  };
  const std::vector<uint8_t> v1 = enroll::testing::pattern_model_tem();
  const std::string stale = share_halves(v1, v1);
  EXPECT_NE(stale.find("another embedding"), std::string::npos)
      << "a share learned with the model before the update: " << stale;
  const std::string fresh = share_halves(v2, v2);
  ASSERT_EQ(fresh, "accepted") << "a share learned with the installed model was refused";
  EXPECT_TRUE(seen("halves@2", 15s)) << "the shared class is not named in /events: "
                                     << ::testing::PrintToString(named_results(api, "cam7"));

  node.signal(SIGTERM);
  EXPECT_TRUE(node.wait_for(20s));
  gateway.signal(SIGTERM);
  EXPECT_TRUE(gateway.wait_for(20s));
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace tinyedge::test
