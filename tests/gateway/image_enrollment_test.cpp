// A camera node learns a class on the device (#16), end to end through real processes: the real
// tinyedge-node replays frames (--images) through an image embedding model it runs by nearest
// prototype, the operator's `tinyedge enroll start` goes through the real tinyedge-gateway and a
// real mosquitto, the node enrolls the first N frames of --enroll-from DIR/<label>/ and from then
// on its frames of that class are named by the label in /api/v1/events. Folders it cannot use are
// refused: the CLI prints the reason, the node's log names the folder or file.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "dashboard_api/auth.h"
#include "deploy/fleet/api_client.h"
#include "node_firmware/camera/image_file.h"
#include "ota/package.h"
#include "tests/enroll/pattern_model.h"
#include "tests/gateway/support/gateway_process.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/node/process.h"
#include "tests/train/cli_run.h"

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
                              "--top-k", "1"},
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

  node.signal(SIGTERM);
  EXPECT_TRUE(node.wait_for(20s));
  gateway.signal(SIGTERM);
  EXPECT_TRUE(gateway.wait_for(20s));
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace tinyedge::test
