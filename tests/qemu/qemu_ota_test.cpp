// The Cortex-M4 node (and the Cortex-M33's, the second port) takes a signed model update over its
// UART, in qemu-system-arm: the image is
// built with the test fleet's public key (TINYEDGE_FW_FLEET_KEY); this test imports the node's
// model again as the next version and signs it with the real `tinyedge package create`, serves it chunk by chunk as the
// gateway would, and expects the node to download, verify, self-test and activate it, then run
// it. An offer signed by another key is refused first, and changes nothing. The M4's update is
// encrypted for the fleet's decryption key, which its image built in from the node's config blob
// (`tinyedge fleet provision --decryption-key`, TINYEDGE_FW_NODE_BLOB); the M33's is plain.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "ota/chunk_server.h"
#include "ota/package.h"
#include "tests/qemu/qemu_node.h"

namespace tinyedge {
namespace {

using namespace qemu_test;

// Runs the tinyedge CLI to completion; its output goes to `log`.
void run_cli(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv{TINYEDGE_CLI_EXE};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::ChildProcess cli(argv, log.string());
  ASSERT_TRUE(cli.wait_for(std::chrono::seconds(60))) << "tinyedge " << args.front() << " hung";
  ASSERT_EQ(cli.exit_code(), 0) << "tinyedge " << args.front() << " failed:\n" << read_text(log);
}

// The model's version and a self-test input (synthetic sample 0) written to `input_path`.
uint32_t write_self_test_input(const std::vector<uint8_t>& blob, const fs::path& input_path) {
  FirstSample first(blob);
  const std::span<const int8_t> input = first.interpreter.input();
  std::ofstream(input_path, std::ios::binary)
      .write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
  return first.model.version();
}

struct OtaOutcome {
  std::vector<tinyedge_v1_OtaStatus> statuses;  // every OtaStatus about the offered version
  uint32_t chunks_served = 0;
  uint32_t results_version_after = 0;  // model_version of the first results after the last status
};

// Offers `server`'s package and serves the node's ChunkRequests until it reports a final state
// (activated, refused, failed) and then sends results of the model it runs, or the deadline passes.
OtaOutcome run_offer(QemuNode& node, ota::ChunkServer& server, Clock::time_point deadline) {
  OtaOutcome outcome;
  node.send(server.offer());
  bool final_state = false;
  while (auto up = node.next_uplink(deadline)) {
    switch (up->which_payload) {
      case tinyedge_v1_Uplink_chunk_request_tag:
        if (auto chunk = server.answer(up->payload.chunk_request)) {
          node.send(*chunk);
          ++outcome.chunks_served;
        } else {
          ADD_FAILURE() << "the node asked for a chunk the server cannot give: " << server.last_error();
        }
        break;
      case tinyedge_v1_Uplink_ota_status_tag: {
        outcome.statuses.push_back(up->payload.ota_status);
        const auto state = up->payload.ota_status.state;
        final_state = state == tinyedge_v1_OtaState_OTA_ACTIVATED || state == tinyedge_v1_OtaState_OTA_REFUSED ||
                      state == tinyedge_v1_OtaState_OTA_FAILED;
        break;
      }
      case tinyedge_v1_Uplink_results_tag: {
        tinyedge_v1_Downlink ack = tinyedge_v1_Downlink_init_zero;
        ack.which_payload = tinyedge_v1_Downlink_ack_tag;
        ack.payload.ack.boot_id = up->boot_id;
        ack.payload.ack.through_seq = up->seq + up->payload.results.results_count - 1;
        node.send(ack);
        if (final_state) {
          // Results inferred before the switch may still be queued: wait for the running model's.
          outcome.results_version_after = up->payload.results.model_version;
          const tinyedge_v1_OtaStatus& last = outcome.statuses.back();
          if (last.state != tinyedge_v1_OtaState_OTA_ACTIVATED || outcome.results_version_after == last.active_version)
            return outcome;
        }
        break;
      }
      default:
        break;
    }
  }
  return outcome;
}

std::string states_of(const OtaOutcome& outcome) {
  std::string s;
  for (const auto& status : outcome.statuses) {
    s += std::to_string(status.state) + "/" + std::to_string(status.reason) + " ";
  }
  return s;
}

// The packages both boards' tests offer, made once: the kws model imported again as the next
// version, signed with the images' fleet key (good.tep; encrypted.tep, also encrypted for the
// fleet's decryption key) and with a foreign key (foreign.tep).
struct Packages {
  fs::path dir;
  uint32_t factory_version = 0;
  std::string skip;  // why the tests cannot run, if they cannot
};

const Packages& packages() {
  static const Packages made = [] {
    Packages p;
    const std::string elf = TINYEDGE_FW_KWS, tem = TINYEDGE_MODEL_KWS, fleet = TINYEDGE_FW_FLEET;
    if (elf.empty() || !fs::exists(elf) || tem.empty() || !fs::exists(tem) || !fs::exists(fleet + ".key") ||
        !fs::exists(TINYEDGE_KWS_TFLITE)) {
      p.skip = "firmware image '" + elf + "' / model '" + tem + "' / fleet key '" + fleet +
               ".key' not built: needs arm-none-eabi-gcc and ../shared/models";
      return p;
    }
    p.dir = fs::temp_directory_path() / ("tinyedge-qemu-ota-" + std::to_string(::getpid()));
    fs::remove_all(p.dir);
    fs::create_directories(p.dir);
    const fs::path cli_log = p.dir / "cli.log";
    const fs::path& dir = p.dir;
    p.factory_version = write_self_test_input(read_bytes(tem), dir / "self_test.in");
    const std::string next = std::to_string(p.factory_version + 1);
    const std::string update = (dir / "kws_next.tem").string();
    run_cli({"model", "import", TINYEDGE_KWS_TFLITE, "--version", next, "-o", update}, cli_log);
    run_cli({"package", "create", "--model", update, "--version", next, "--key", fleet + ".key", "--self-test",
             (dir / "self_test.in").string(), "-o", (dir / "good.tep").string()},
            cli_log);
    run_cli({"package", "create", "--model", update, "--version", next, "--key", fleet + ".key", "--self-test",
             (dir / "self_test.in").string(), "--encrypt-for", std::string(TINYEDGE_FW_ENC) + ".pub", "-o",
             (dir / "encrypted.tep").string()},
            cli_log);
    run_cli({"keys", "generate", "--out", (dir / "foreign").string()}, cli_log);
    run_cli({"package", "create", "--model", update, "--version", next, "--key", (dir / "foreign.key").string(),
             "--self-test", (dir / "self_test.in").string(), "-o", (dir / "foreign.tep").string()},
            cli_log);
    return p;
  }();
  return made;
}

// Removes the packages' folder after the last test, unless a test failed (its logs are there).
class RemovePackages final : public ::testing::Environment {
 public:
  void TearDown() override {
    if (!::testing::UnitTest::GetInstance()->Passed()) return;
    const fs::path dir = fs::temp_directory_path() / ("tinyedge-qemu-ota-" + std::to_string(::getpid()));
    fs::remove_all(dir);
  }
};
[[maybe_unused]] ::testing::Environment* const kRemovePackages =
    ::testing::AddGlobalTestEnvironment(new RemovePackages);

// Boots `elf` on `machine`, offers the foreign-key package (refused, nothing downloaded), then the
// fleet's package `package_name` (downloaded over the UART, decrypted if encrypted, verified,
// self-tested, activated, then run).
void update_over_uart(const std::string& board, const std::string& machine, const std::string& elf,
                      const std::string& package_name) {
  const auto qemu = find_qemu();
  if (!qemu) GTEST_SKIP() << "qemu-system-arm is not installed (scripts/setup installs it)";
  const Packages& made = packages();
  if (!made.skip.empty() || elf.empty() || !fs::exists(elf)) {
    const std::string why = made.skip.empty() ? "firmware image '" + elf + "' not built" : made.skip;
    if (under_ci()) FAIL() << why;
    GTEST_SKIP() << why;
  }
  ASSERT_TRUE(fs::exists(made.dir / package_name) && fs::exists(made.dir / "foreign.tep"))
      << "the packages were not made (see " << (made.dir / "cli.log") << ")";
  const fs::path dir = made.dir / machine;
  fs::create_directories(dir);
  const uint32_t factory_version = made.factory_version;

  QemuNode node(*qemu, elf, dir, machine);
  ASSERT_TRUE(node.connected()) << "qemu never connected its UART; console:\n" << node.stop_and_console();
  const auto deadline = Clock::now() + std::chrono::seconds(90);
  ASSERT_TRUE(node.prove_link(TINYEDGE_FW_LINK_KEY, "mps2-1", deadline)) << "console:\n" << node.stop_and_console();
  std::optional<tinyedge_v1_Uplink> hello;
  while (!hello) {
    auto up = node.next_uplink(deadline);
    if (!up) break;
    if (up->which_payload == tinyedge_v1_Uplink_hello_tag) hello = up;
  }
  ASSERT_TRUE(hello) << "no Hello on the UART; console:\n" << node.stop_and_console();
  EXPECT_EQ(std::string(hello->payload.hello.hardware), machine);
  EXPECT_EQ(hello->payload.hello.model_version, factory_version);
  EXPECT_GT(hello->payload.hello.key_id.size, 0u) << "the image says it trusts no fleet key";

  ota::ChunkServer foreign(ota::read_package_file((made.dir / "foreign.tep").string()),
                           ota::ChunkServer::kMaxChunkBytes);
  const OtaOutcome refused = run_offer(node, foreign, deadline);
  ASSERT_FALSE(refused.statuses.empty()) << "no OtaStatus for the foreign-key offer; console:\n"
                                         << node.stop_and_console();
  EXPECT_EQ(refused.statuses.back().state, tinyedge_v1_OtaState_OTA_REFUSED) << states_of(refused);
  EXPECT_EQ(refused.statuses.back().reason, tinyedge_v1_OtaReason_OTA_UNKNOWN_KEY) << states_of(refused);
  EXPECT_EQ(refused.chunks_served, 0u) << "the node downloaded a package it could not trust";
  EXPECT_EQ(refused.results_version_after, factory_version) << "a refused offer changed the running model";

  const ota::Package package = ota::read_package_file((made.dir / package_name).string());
  const bool encrypted = ota::is_encrypted(ota::manifest_of(package));
  ota::ChunkServer server(package, ota::ChunkServer::kMaxChunkBytes);
  const auto started = Clock::now();
  const OtaOutcome updated = run_offer(node, server, deadline);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  const std::string console = node.stop_and_console();
  SCOPED_TRACE("qemu console:\n" + console.substr(0, 3000));

  if (encrypted) {
    EXPECT_NE(console.find("decryption key built in"), std::string::npos) << "the image holds no decryption key";
  }
  ASSERT_FALSE(updated.statuses.empty()) << "no OtaStatus for the fleet-key offer";
  const tinyedge_v1_OtaStatus& last = updated.statuses.back();
  ASSERT_EQ(last.state, tinyedge_v1_OtaState_OTA_ACTIVATED)
      << (encrypted ? "the package encrypted for the provisioned decryption key was not installed; " : "")
      << "states/reasons: " << states_of(updated);
  EXPECT_EQ(last.active_version, factory_version + 1);
  EXPECT_EQ(last.total_bytes, package.payload.size());
  EXPECT_EQ(server.payload_bytes_served(), package.payload.size()) << "every payload byte is fetched exactly once";
  EXPECT_EQ(updated.results_version_after, factory_version + 1) << "results after activation name the old model";
  EXPECT_EQ(node.bad_frames, 0);
  std::printf("%s over UART: %zu-byte %s payload in %u chunks, offer to activation %.2f s (qemu, -icount shift=0)\n",
              board.c_str(), package.payload.size(), encrypted ? "encrypted" : "plain", updated.chunks_served, seconds);
  if (!::testing::Test::HasFailure()) fs::remove_all(dir);
}

// Both boards in one test: the packages are made once per process (ctest runs each test alone).
TEST(QemuOta, KwsNodeActivatesSignedUpdateOverUartAndRefusesAForeignKey) {
  {
    SCOPED_TRACE("Cortex-M4, mps2-an386");
    update_over_uart("M4", "mps2-an386", TINYEDGE_FW_KWS, "encrypted.tep");
  }
  if (IsSkipped()) return;
  // The second port (Cortex-M33, node_firmware/ports/mps2_an505): the same update over its UART.
  SCOPED_TRACE("Cortex-M33, mps2-an505");
  update_over_uart("M33", "mps2-an505", TINYEDGE_FW_M33_KWS, "good.tep");
}

}  // namespace
}  // namespace tinyedge
