// Boots the Cortex-M4 firmware in qemu-system-arm (mps2-an386, -icount shift=0) with UART0 on a
// TCP socket this test listens on, and reads the node's frames: a Hello naming the model, then
// InferenceResults whose first result equals what the host runtime computes for the same
// built-in input (synthetic sample 0 of seed 1), and a Telemetry in answer to a Command sent
// down the same UART. The firmware's own semihosting console gives the full output tensor
// (compared bit for bit) and the instructions per inference (printed as the figure).
#include "tests/qemu/qemu_node.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <span>
#include <string>
#include <vector>

#include "node_firmware/app/top_k.h"

namespace tinyedge {
namespace {

using namespace qemu_test;

std::string hex(std::span<const int8_t> bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (int8_t v : bytes) {
    const auto b = static_cast<uint8_t>(v);
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

// What the host runtime says the node must report for its first inference.
struct Expected {
  uint32_t model_id = 0, version = 0;
  std::string name;
  std::string output_hex;
  std::vector<app::ClassScore> top;
};

Expected host_reference(const std::vector<uint8_t>& blob) {
  Expected e;
  FirstSample first(blob);
  const runtime::Model& model = first.model;
  runtime::Interpreter& interpreter = first.interpreter;
  EXPECT_EQ(interpreter.invoke(), runtime::Status::kOk);
  e.model_id = model.model_id();
  e.version = model.version();
  e.name = std::string(model.name());
  e.output_hex = hex(interpreter.output());
  e.top.resize(5);
  e.top.resize(app::top_k(interpreter.output(), model.output_info().zero_point, e.top));
  return e;
}

void run_firmware(const std::string& name, const std::string& elf, const std::string& tem,
                  const std::string& machine = "mps2-an386") {
  const auto qemu = find_qemu();
  if (!qemu) GTEST_SKIP() << "qemu-system-arm is not installed (scripts/setup installs it)";
  if (elf.empty() || !fs::exists(elf) || tem.empty() || !fs::exists(tem)) {
    const std::string why =
        "firmware image '" + elf + "' / model '" + tem + "' not built: needs arm-none-eabi-gcc and ../shared/models";
    if (under_ci()) FAIL() << why;
    GTEST_SKIP() << why;
  }
  const Expected expected = host_reference(read_bytes(tem));
  const fs::path dir = fs::temp_directory_path() / ("tinyedge-qemu-" + name + "-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  QemuNode node(*qemu, elf, dir, machine);
  ASSERT_TRUE(node.connected()) << "qemu never connected its UART; console:\n" << node.stop_and_console();

  const auto deadline = Clock::now() + std::chrono::seconds(30);
  // The image carries its link key: it proves its node id before the gateway listens to it.
  const std::optional<uint32_t> proven_boot = node.prove_link(TINYEDGE_FW_LINK_KEY, "mps2-1", deadline);
  ASSERT_TRUE(proven_boot) << "console:\n" << node.stop_and_console();
  std::optional<tinyedge_v1_Uplink> hello, results, telemetry;
  bool asked_telemetry = false;
  while (!(hello && results && telemetry)) {
    auto up = node.next_uplink(deadline);
    if (!up) break;
    switch (up->which_payload) {
      case tinyedge_v1_Uplink_hello_tag:
        if (!hello) hello = up;
        break;
      case tinyedge_v1_Uplink_results_tag:
        if (!results && up->seq == 1) results = up;
        break;
      case tinyedge_v1_Uplink_telemetry_tag:
        if (asked_telemetry) telemetry = up;
        break;
      default:
        break;
    }
    if (results && !asked_telemetry) {
      // Down the same UART: ack the first result and ask for telemetry at once.
      tinyedge_v1_Downlink ack = tinyedge_v1_Downlink_init_zero;
      ack.which_payload = tinyedge_v1_Downlink_ack_tag;
      ack.payload.ack.boot_id = results->boot_id;
      ack.payload.ack.through_seq = 1;
      node.send(ack);
      tinyedge_v1_Downlink cmd = tinyedge_v1_Downlink_init_zero;
      cmd.which_payload = tinyedge_v1_Downlink_command_tag;
      cmd.payload.command.kind = tinyedge_v1_Command_Kind_SEND_TELEMETRY;
      node.send(cmd);
      asked_telemetry = true;
    }
  }
  const std::string console = node.stop_and_console();
  SCOPED_TRACE("qemu console:\n" + console.substr(0, 2000));
  EXPECT_EQ(node.bad_frames, 0);

  ASSERT_TRUE(hello) << "no Hello frame on the UART";
  EXPECT_EQ(hello->boot_id, *proven_boot) << "the proof names the boot the node reports";
  EXPECT_EQ(std::string(hello->payload.hello.hardware), machine) << "the image reports another board";
  EXPECT_EQ(hello->payload.hello.model_id, expected.model_id);
  EXPECT_EQ(hello->payload.hello.model_version, expected.version);
  EXPECT_EQ(std::string(hello->payload.hello.model_name), expected.name.substr(0, 31));

  ASSERT_TRUE(results) << "no InferenceResults with seq 1 on the UART";
  const tinyedge_v1_InferenceResults& rs = results->payload.results;
  EXPECT_EQ(results->boot_id, hello->boot_id);
  EXPECT_EQ(rs.model_id, expected.model_id);
  ASSERT_GE(rs.results_count, 1u);
  const tinyedge_v1_InferenceResult& r = rs.results[0];
  ASSERT_FALSE(expected.top.empty());
  EXPECT_EQ(r.label, expected.top[0].label) << "top-1 differs from the host runtime";
  EXPECT_EQ(r.score, expected.top[0].score);
  ASSERT_EQ(r.runners_up_count, expected.top.size() - 1);
  for (size_t i = 1; i < expected.top.size(); ++i) {
    EXPECT_EQ(r.runners_up[i - 1].label, expected.top[i].label) << "rank " << i;
    EXPECT_EQ(r.runners_up[i - 1].score, expected.top[i].score) << "rank " << i;
  }
  EXPECT_GT(r.latency_us, 0u);

  ASSERT_TRUE(telemetry) << "no Telemetry after Command SEND_TELEMETRY: the downlink path over UART0 failed";
  EXPECT_GE(telemetry->payload.telemetry.inferences, 1u);
  EXPECT_GT(telemetry->payload.telemetry.free_ram_bytes, 0u) << "stack headroom";

  // Bit-exact output, from the firmware's own console.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(console, m, std::regex("tinyedge: output ([0-9a-f]+)")))
      << "firmware printed no output tensor";
  EXPECT_EQ(m[1].str(), expected.output_hex) << "output tensor differs from the host runtime";

  // The figure: instructions per inference (virtual ns under -icount shift=0).
  const std::regex ipi("inference (\\d+) ok, instructions (\\d+)");
  uint64_t total = 0, n = 0;
  for (auto it = std::sregex_iterator(console.begin(), console.end(), ipi); it != std::sregex_iterator(); ++it) {
    total += std::stoull((*it)[2].str());
    ++n;
  }
  ASSERT_GT(n, 0u);
  std::printf("%s: %llu instructions per inference (mean of %llu, -icount shift=0)\n", name.c_str(),
              static_cast<unsigned long long>(total / n), static_cast<unsigned long long>(n));
  ::testing::Test::RecordProperty("instructions_per_inference", std::to_string(total / n));
  fs::remove_all(dir);
}

TEST(QemuNode, Ad01In16KBootsAndReportsHostIdenticalResult) {
  run_firmware("ad01", TINYEDGE_FW_AD01, TINYEDGE_MODEL_AD01);
}

TEST(QemuNode, KwsIn48KBootsAndReportsHostIdenticalResult) { run_firmware("kws", TINYEDGE_FW_KWS, TINYEDGE_MODEL_KWS); }

// The second port: the same node on the Cortex-M33 of the MPS2 AN505 (node_firmware/ports/mps2_an505).
TEST(QemuNode, M33KwsIn48KBootsAndReportsHostIdenticalResult) {
  run_firmware("m33-kws", TINYEDGE_FW_M33_KWS, TINYEDGE_MODEL_KWS, "mps2-an505");
}

}  // namespace
}  // namespace tinyedge
