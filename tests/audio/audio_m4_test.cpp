// The Cortex-M4 build of the front-end (tests/audio/m4, run under qemu-system-arm -icount) gives
// the host build's features bit for bit on the same signal; prints its instructions per second of
// audio, RAM and code size.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "node_firmware/audio/front_end.h"
#include "tests/audio/m4/m4_configs.h"
#include "tests/audio/test_signal.h"

namespace tinyedge::audio {
namespace {

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

std::string hex_rows(const audio_test::M4Case& test) {
  std::vector<uint64_t> ws(workspace_bytes(test.config) / 8 + 1);
  AudioFrontEnd fe;
  EXPECT_EQ(fe.configure(test.config, {reinterpret_cast<uint8_t*>(ws.data()), ws.size() * 8}), AudioStatus::kOk);
  std::vector<int16_t> signal(audio_test::kM4Samples);
  audio_test::make_test_signal(signal);
  std::string out;
  std::vector<int8_t> row(test.config.features_per_row());
  const uint32_t stride = test.config.stride_samples();
  for (size_t at = 0; at + stride <= signal.size(); at += stride) {
    bool ready = false;
    EXPECT_EQ(fe.push_stride({signal.data() + at, stride}, row, ready), AudioStatus::kOk);
    if (!ready) continue;
    char h[3];
    out += "audio: r ";
    for (int8_t v : row) {
      std::snprintf(h, sizeof(h), "%02x", static_cast<uint8_t>(v));
      out += h;
    }
    out += "\n";
  }
  return out;
}

TEST(AudioM4, FeaturesOnTheEmulatedM4EqualTheHostsBitForBit) {
  const bool ci = std::getenv("CI") != nullptr && std::string(std::getenv("CI")) == "true";
  if (std::system("command -v qemu-system-arm > /dev/null") != 0) {
    if (ci) FAIL() << "qemu-system-arm missing under CI";
    GTEST_SKIP() << "qemu-system-arm not installed (scripts/setup installs it)";
  }
  const std::string console =
      run("timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none -icount shift=0 "
          "-semihosting-config enable=on,target=native -kernel " TINYEDGE_AUDIO_M4_ELF " 2>&1");
  ASSERT_NE(console.find("RESULT DONE"), std::string::npos) << "the M4 image did not finish:\n" << console;
  ASSERT_EQ(console.find("FAILED"), std::string::npos) << console;

  std::ifstream size_file(TINYEDGE_AUDIO_M4_SIZE);
  std::string word;
  size_t text_bytes = 0;
  size_file >> word >> text_bytes;
  EXPECT_GT(text_bytes, 0u) << "no size report at " TINYEDGE_AUDIO_M4_SIZE;

  for (int i = 0; i < audio_test::kM4Cases; ++i) {
    const audio_test::M4Case test = audio_test::m4_case(i);
    const std::string head = std::string("audio: case ") + test.name + "\n";
    const size_t begin = console.find(head);
    ASSERT_NE(begin, std::string::npos) << test.name << " missing from the M4 console";
    const size_t end = console.find("audio: case ", begin + head.size());
    const std::string section = console.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    // The M4's rows, in order, against the host's.
    std::string m4_rows;
    std::istringstream lines(section);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("audio: r ", 0) == 0) m4_rows += line + "\n";
    }
    const std::string host_rows = hex_rows(test);
    EXPECT_EQ(std::count(host_rows.begin(), host_rows.end(), '\n'), 49) << test.name;
    EXPECT_EQ(m4_rows, host_rows) << test.name << ": the M4 features differ from the host's";

    std::smatch m;
    const std::string figures = section;
    auto number = [&](const char* label) -> unsigned long {
      const std::regex re(std::string(label) + " (\\d+)");
      return std::regex_search(figures, m, re) ? std::stoul(m[1]) : 0;
    };
    const unsigned long ips = number("instructions per second of audio");
    const unsigned long workspace = number("workspace bytes");
    const unsigned long state = number("state bytes");
    const unsigned long worst = number("most instructions in one stride");
    EXPECT_EQ(workspace, workspace_bytes(test.config));
    EXPECT_GT(ips, 0u);
    std::printf(
        "%s on the M4 (qemu -icount shift=0): %lu instructions per second of audio (worst stride %lu), "
        "RAM %lu bytes (workspace %lu + state %lu), front-end code %zu bytes\n",
        test.name, ips, worst, workspace + state, workspace, state, text_bytes);
    ::testing::Test::RecordProperty(std::string(test.name) + "_instructions_per_second", std::to_string(ips));
    ::testing::Test::RecordProperty(std::string(test.name) + "_ram_bytes", std::to_string(workspace + state));
  }
}

}  // namespace
}  // namespace tinyedge::audio
