// The models `tinyedge train text|motion|image` make, run on the Cortex-M4 under qemu from their
// raw input (text lines, the CSV log's samples, camera frames) through the node's freestanding
// front-ends (raw_input_m4.cpp): every inference's int8 outputs must equal the host node's, whose
// loaders (--text, --motion, --images) and runtime read the same files.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "node_firmware/camera/image_file.h"
#include "node_firmware/motion/motion_csv.h"
#include "node_firmware/ports/host/image_camera.h"
#include "node_firmware/ports/host/motion_replay.h"
#include "node_firmware/ports/host/text_lines.h"
#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"
#include "tests/train/cli_run.h"

namespace {

namespace fs = std::filesystem;
using tinyedge::train::testing::cli;
using tinyedge::train::testing::run;

std::vector<uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The host node's outputs for its loader's input tensors, one inference after another.
std::vector<int8_t> host_outputs(const std::vector<uint8_t>& tem, const std::vector<int8_t>& tensors) {
  tinyedge::runtime::Model model;
  EXPECT_EQ(tinyedge::runtime::Model::load(tem, model), tinyedge::runtime::Status::kOk);
  std::vector<uint32_t> arena((model.arena_bytes() + 3) / 4 + 1);
  tinyedge::runtime::Interpreter interpreter;
  EXPECT_EQ(interpreter.init(model, {reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 4}),
            tinyedge::runtime::Status::kOk);
  const auto in_bytes = interpreter.input().size();
  std::vector<int8_t> outputs;
  for (std::size_t at = 0; at + in_bytes <= tensors.size(); at += in_bytes) {
    std::memcpy(interpreter.input().data(), tensors.data() + at, in_bytes);
    EXPECT_EQ(interpreter.invoke(), tinyedge::runtime::Status::kOk);
    outputs.insert(outputs.end(), interpreter.output().begin(), interpreter.output().end());
  }
  return outputs;
}

class RawInputM4 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(TINYEDGE_RAW_INPUT_ELF)) {
      if (std::getenv("CI") != nullptr && std::string(std::getenv("CI")) == "true")
        FAIL() << TINYEDGE_RAW_INPUT_ELF << " was not built";
      GTEST_SKIP() << TINYEDGE_RAW_INPUT_ELF << " was not built (arm-none-eabi-gcc missing?)";
    }
    dir_ = tinyedge::train::testing::scratch("m4", ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override {
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }

  // The M4's outputs for `kind` on `input`; `log` gets what the image printed.
  std::vector<int8_t> m4_outputs(const std::string& kind, const fs::path& tem, const fs::path& input,
                                 std::string& log) {
    const auto out = dir_ / (kind + ".m4.out");
    const auto r =
        run("timeout 120 qemu-system-arm -M mps2-an386 -display none -monitor none -nographic "
            "-semihosting-config enable=on,target=native -kernel " TINYEDGE_RAW_INPUT_ELF " -append '" +
            kind + " " + tem.string() + " " + input.string() + " " + out.string() + "'");
    log = r.output;
    const auto b = read_bytes(out);
    return {b.begin(), b.end()};
  }

  void expect_equal(const std::string& kind, const std::vector<uint8_t>& tem, const std::vector<int8_t>& host,
                    const std::vector<int8_t>& m4, const std::string& log) {
    tinyedge::runtime::Model model;
    ASSERT_EQ(tinyedge::runtime::Model::load(tem, model), tinyedge::runtime::Status::kOk);
    const auto classes = model.output_info().element_count;
    const auto n = host.size() / classes;
    ASSERT_GE(n, 4u) << kind << ": too few inputs for a comparison";
    ASSERT_NE(log.find("RESULT " + std::to_string(n)), std::string::npos)
        << kind << ": the M4 image did not run all " << n << " inferences:\n"
        << log;
    // A model whose outputs hardly move with its input would hide a wrong front-end: the inputs
    // must give at least three different output vectors.
    std::set<std::vector<int8_t>> distinct;
    for (std::size_t i = 0; i < n; ++i) distinct.emplace(host.begin() + i * classes, host.begin() + (i + 1) * classes);
    EXPECT_GE(distinct.size(), 3u) << kind << ": only " << distinct.size() << " different outputs for " << n
                                   << " inputs";
    ASSERT_EQ(m4.size(), host.size()) << kind << ": M4 wrote " << m4.size() << " output bytes, the host "
                                      << host.size();
    for (std::size_t i = 0; i < host.size(); ++i)
      ASSERT_EQ(m4[i], host[i]) << kind << ": inference " << i / classes << " output " << i % classes << " differs (M4 "
                                << int{m4[i]} << ", host " << int{host[i]} << ")";
    std::cout << kind << ": " << n << " inferences equal on the M4 and the host; " << log;
  }

  fs::path dir_;
};

TEST_F(RawInputM4, TextLinesTokenizedOnTheM4GiveTheHostNodesOutputs) {
  const auto tsv = dir_ / "fortunes.tsv", tem = dir_ / "text.tem";
  auto r = cli("data fortunes --categories computers,food --max-per-class 30 -o " + tsv.string());
  ASSERT_EQ(r.status, 0) << r.output;
  r = cli("train text --data " + tsv.string() + " --buckets 512 --hidden 8 --epochs 3 -o " + tem.string());
  ASSERT_EQ(r.status, 0) << r.output;
  // Upper case, UTF-8 beyond ASCII, tabs and trailing CRs as well as the corpus's own lines.
  const auto lines = dir_ / "lines.txt";
  {
    std::ofstream(lines, std::ios::binary) << std::ifstream(tsv).rdbuf();
    std::ofstream(lines, std::ios::binary | std::ios::app)
        << "COMPUTERS Are Fast\r\nx\tcrème brûlée, naïve café\n\nThe program's bug ate my lunch  \n";
  }
  const auto blob = read_bytes(tem);
  const auto host = host_outputs(blob, *tinyedge::host::load_text_lines(lines.string(), blob));
  std::string log;
  const auto m4 = m4_outputs("text", tem, lines, log);
  expect_equal("text", blob, host, m4, log);
}

TEST_F(RawInputM4, SensorSamplesWindowedOnTheM4GiveTheHostNodesOutputs) {
  const auto csv = dir_ / "gestures.csv", tem = dir_ / "motion.tem";
  auto r = cli("data synth-motion --recordings 3 --seconds 2 --rate 25 --seed 3 -o " + csv.string());
  ASSERT_EQ(r.status, 0) << r.output;
  r = cli("train motion --data " + csv.string() +
          " --window 32 --stride 8 --ram 4K --flash 8K --epochs 1 --threads 1 -o " + tem.string());
  ASSERT_EQ(r.status, 0) << r.output;
  // The log's samples as the M4's sensor gives them: float32 per axis, row after row.
  const auto log_rows = tinyedge::motion::read_motion_csv(csv, {});
  const auto samples = dir_ / "samples.f32";
  std::ofstream(samples, std::ios::binary)
      .write(reinterpret_cast<const char*>(log_rows.values.data()),
             static_cast<std::streamsize>(log_rows.values.size() * sizeof(float)));
  const auto blob = read_bytes(tem);
  const auto host = host_outputs(blob, *tinyedge::host::load_motion_windows(csv.string(), blob, 0));
  std::string log;
  const auto m4 = m4_outputs("motion", tem, samples, log);
  expect_equal("motion", blob, host, m4, log);
}

TEST_F(RawInputM4, CameraFramesConvertedOnTheM4GiveTheHostNodesOutputs) {
  const auto data = dir_ / "data", tem = dir_ / "image.tem";
  auto r = cli("data image-folder --classes Trouser,Sneaker,Bag --train-per-class 30 --test-per-class 4 -o " +
               data.string());
  ASSERT_EQ(r.status, 0) << r.output;
  r = cli("train image --data " + data.string() +
          " --size 16x16 --ram 8K --flash 16K --epochs 4 --batch-size 16 --lr 1e-2 --seed 1 --threads 1 -o " +
          tem.string());
  ASSERT_EQ(r.status, 0) << r.output;
  // Frames: the folder's 28x28 gray PNGs and RGB frames of another size (converted to gray 16x16).
  const auto frames = dir_ / "frames";
  fs::create_directories(frames);
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(data)) {
    if (n == 6) break;
    if (e.path().extension() == ".png") fs::copy_file(e.path(), frames / ("f" + std::to_string(n++) + ".png"));
  }
  for (int k = 0; k < 2; ++k) {
    tinyedge::camera::DecodedImage rgb{{37, 23, 3}, {}};
    for (uint32_t i = 0; i < rgb.shape.bytes(); ++i) rgb.pixels.push_back(static_cast<uint8_t>((i * (7 + k)) % 251));
    tinyedge::camera::write_png(frames / ("f" + std::to_string(n++) + ".png"), rgb);
  }
  // The same files as the M4's camera gives them: decoded pixels behind width, height, channels.
  const auto raw = dir_ / "frames.raw";
  {
    std::ofstream out(raw, std::ios::binary);
    for (const auto& file : tinyedge::host::camera_image_files(frames)) {
      const auto img = tinyedge::camera::read_image_file(file);
      const uint32_t header[3] = {img.shape.width, img.shape.height, img.shape.channels};
      out.write(reinterpret_cast<const char*>(header), sizeof header);
      out.write(reinterpret_cast<const char*>(img.pixels.data()), static_cast<std::streamsize>(img.pixels.size()));
    }
  }
  const auto blob = read_bytes(tem);
  const auto host = host_outputs(blob, *tinyedge::host::load_camera_images(frames.string(), blob));
  std::string log;
  const auto m4 = m4_outputs("image", tem, raw, log);
  expect_equal("image", blob, host, m4, log);
}

}  // namespace
