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

#include "node_firmware/camera/image_file.h"
#include "ota/package.h"
#include "ota/signing_key.h"
#include "tests/enroll/pattern_model.h"
#include "tests/gateway/support/enrollment_fleet.h"
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

void write_frame(const fs::path& path, const std::vector<uint8_t>& pixels, uint32_t side = enroll::testing::kSide) {
  camera::write_png(path, camera::DecodedImage{{side, side, 1}, pixels});
}

TEST(GatewayEnrollment, ACameraNodeEnrollsFramesOfAClassItsEmbeddingNeverSawAndNamesThem) {
  const fs::path dir = make_temp_dir("image-enroll");
  EnrollmentFleet fleet(dir.string(), TINYEDGE_GATEWAY_EXE, TINYEDGE_CLI_EXE);
  {
    const std::vector<uint8_t> tem = enroll::testing::pattern_model_tem();
    ASSERT_FALSE(tem.empty()) << "the pattern model did not build";
    std::ofstream(dir / "patterns.tem", std::ios::binary)
        .write(reinterpret_cast<const char*>(tem.data()), static_cast<std::streamsize>(tem.size()));
  }
  // The model in the registry: the gateway names the trained labels and places the enrolled ones.
  fleet.register_model(fleet.package((dir / "patterns.tem").string(), 1));

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
  const std::string op = " --wait 20" + fleet.op();

  // clang-format off
  testing::ChildProcess node({TINYEDGE_NODE_EXE, "--model", (dir / "patterns.tem").string(),
                              "--images", (dir / "cam").string(), "--enroll-from", shots.string(), "--id", "cam7",
                              "--broker", fleet.broker_url(), "--interval-ms", "50", "--report-interval-ms", "100",
                              "--top-k", "1", "--trust-key", fleet.public_key()},
                             (dir / "node.log").string());
  // clang-format on
  const auto seen = [&](const std::string& result, std::chrono::seconds limit) {
    return fleet.wait_for_result("cam7", result, limit);
  };
  // Before enrolling, stripes frames are stripes and the others nothing the model knows.
  ASSERT_TRUE(seen("#6@1", 15s)) << "no frame classified unknown: "
                                 << ::testing::PrintToString(fleet.named_results("cam7")) << "\nnode log:\n"
                                 << text_of(dir / "node.log");
  ASSERT_TRUE(seen("stripes@1", 5s)) << ::testing::PrintToString(fleet.named_results("cam7"));
  for (const auto& r : fleet.named_results("cam7"))
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
  train::testing::Run run;
  for (const auto& b : bad) {
    run = fleet.cli("enroll start --node cam7 --label " + b.label + " --examples 5" + op);
    EXPECT_EQ(run.status, 1) << b.label << ": " << run.output;
    EXPECT_NE(run.output.find("refused to start '" + b.label + "': " + b.reason), std::string::npos)
        << b.label << ": " << run.output;
    EXPECT_NE(text_of(dir / "node.log").find(b.logged), std::string::npos)
        << b.label << ": the node's log does not say '" << b.logged << "': " << text_of(dir / "node.log");
  }

  run = fleet.cli("enroll start --node cam7 --label blocks --examples 5" + op);
  ASSERT_EQ(run.status, 0) << run.output << "\n" << text_of(dir / "node.log");
  EXPECT_NE(run.output.find("node cam7 enrolled 'blocks' from 5 examples"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("enrolled now: blocks"), std::string::npos)
      << "the bad folders enrolled something: " << run.output;
  EXPECT_TRUE(seen("blocks@1", 15s)) << "the enrolled class is not named in /events: "
                                     << ::testing::PrintToString(fleet.named_results("cam7"));

  // An update activated in place (no restart) to another embedding of the same patterns (axes
  // rotated, as a retrain): a shared class must now name the new model. Bound once at boot, the
  // node kept checking shares against the booted model's hash: it took one learned with the old
  // embedding and refused one learned with the new.
  const std::vector<uint8_t> v2 = enroll::testing::pattern_model_tem(2, 1);
  std::ofstream(dir / "patterns2.tem", std::ios::binary)
      .write(reinterpret_cast<const char*>(v2.data()), static_cast<std::streamsize>(v2.size()));
  fleet.register_model(fleet.package((dir / "patterns2.tem").string(), 2));
  const auto rollout = fleet.api().request("POST", "/api/v1/rollouts",
                                           nlohmann::json{{"model_id", 17},
                                                          {"version", 2},
                                                          {"target", "nodes:cam7"},
                                                          {"canary", "1"},
                                                          {"waves", "100"},
                                                          {"gate", {{"enabled", false}}}}
                                               .dump());
  ASSERT_EQ(rollout.status, 201) << rollout.body;
  const auto runs_v2 = [&] {
    for (const auto& r : fleet.named_results("cam7"))
      if (r.ends_with("@2")) return true;
    return false;
  };
  for (const auto until = std::chrono::steady_clock::now() + 30s;
       !runs_v2() && std::chrono::steady_clock::now() < until;)
    std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(runs_v2()) << "the update never ran: " << fleet.api().get("/api/v1/rollouts").body << "\nnode log:\n"
                         << text_of(dir / "node.log");
  ASSERT_EQ(fleet.api().request("PUT", "/api/v1/nodes/cam7/groups", R"({"groups":["bench"]})").status, 200);

  // "halves" as another camera learned it with `embedding`, naming `named_model`, fleet-signed.
  const ota::SigningKey fleet_key = ota::SigningKey::from_pem(text_of(fleet.key()));
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
    auto sent = fleet.api().request("POST", "/api/v1/enrollment/share", share_body);
    for (int i = 0; sent.status == 404 && i < 50; ++i) {
      std::this_thread::sleep_for(100ms);
      sent = fleet.api().request("POST", "/api/v1/enrollment/share", share_body);
    }
    if (sent.status != 202) return "share not sent: HTTP " + std::to_string(sent.status) + ": " + sent.body;
    const int64_t sent_ms = nlohmann::json::parse(sent.body).value("sent_ms", int64_t{0});
    for (const auto until = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < until;) {
      const nlohmann::json log =
          nlohmann::json::parse(fleet.api().get("/api/v1/nodes/cam7/enrollment?limit=20").body)["log"];
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
                                     << ::testing::PrintToString(fleet.named_results("cam7"));

  node.signal(SIGTERM);
  EXPECT_TRUE(node.wait_for(20s));
  EXPECT_TRUE(fleet.stop_gateway());
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace tinyedge::test
