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
#include <thread>

#include "node_firmware/camera/image_file.h"
#include "tests/enroll/pattern_model.h"
#include "tests/gateway/support/enrollment_fleet.h"

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
                              "--top-k", "1"},
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

  node.signal(SIGTERM);
  EXPECT_TRUE(node.wait_for(20s));
  EXPECT_TRUE(fleet.stop_gateway());
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace tinyedge::test
