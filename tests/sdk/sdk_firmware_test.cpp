// A firmware project outside the tree builds a node against the installed SDK and runs it: the M4
// firmware build's `sdk` component is installed into a temporary prefix with `cmake --install`,
// tests/sdk/firmware is copied to a temporary directory with the kws model exported by
// `tinyedge model export --c-header`, configured with the installed toolchain file and
// find_package(TinyEdgeNode), built, and booted in qemu-system-arm (mps2-an386). Its output
// tensor must equal the host runtime's for the same input, bit for bit. The same project
// configured for another core than the SDK's is refused with a message that names both.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "tests/qemu/qemu_node.h"

namespace tinyedge {
namespace {

using namespace qemu_test;

struct Finished {
  int exit_code = -1;
  std::string output;
};

// Runs `argv` to completion (at most `timeout`), its stdout and stderr in `log`.
Finished run(const std::vector<std::string>& argv, const fs::path& log, std::chrono::seconds timeout) {
  fs::remove(log);
  testing::ChildProcess child(argv, log.string());
  Finished r;
  if (!child.wait_for(timeout)) {
    child.kill_and_wait();
    r.output = "timed out after " + std::to_string(timeout.count()) + " s: " + argv[0] + "\n";
  } else {
    r.exit_code = child.exit_code();
  }
  r.output += read_text(log);
  return r;
}

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

class SdkFirmware : public ::testing::Test {
 protected:
  void SetUp() override {
    qemu_ = find_qemu();
    if (!qemu_) GTEST_SKIP() << "qemu-system-arm is not installed (scripts/setup installs it)";
    if (!fs::exists(fs::path(TINYEDGE_FIRMWARE_BUILD_DIR) / "cmake_install.cmake") || !fs::exists(TINYEDGE_MODEL_KWS)) {
      const std::string why = std::string("M4 firmware build ") + TINYEDGE_FIRMWARE_BUILD_DIR + " / model '" +
                              TINYEDGE_MODEL_KWS + "' missing: needs arm-none-eabi-gcc and ../shared/models";
      if (under_ci()) FAIL() << why;
      GTEST_SKIP() << why;
    }
    dir_ = fs::temp_directory_path() / ("tinyedge-sdk-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    sdk_ = dir_ / "sdk";
    project_ = dir_ / "project";
    const Finished install =
        run({CMAKE_COMMAND, "--install", TINYEDGE_FIRMWARE_BUILD_DIR, "--component", "sdk", "--prefix", sdk_.string()},
            dir_ / "install.log", std::chrono::seconds(60));
    ASSERT_EQ(install.exit_code, 0) << "cmake --install --component sdk failed:\n" << install.output;
    ASSERT_TRUE(fs::exists(sdk_ / "lib/cmake/TinyEdgeNode/TinyEdgeNodeConfig.cmake")) << install.output;
    fs::copy(TINYEDGE_SDK_PROJECT_DIR, project_, fs::copy_options::recursive);
    const Finished exported = run({TINYEDGE_CLI_EXE, "model", "export", TINYEDGE_MODEL_KWS, "--c-header", "--name",
                                   "model", "-o", (project_ / "model.h").string()},
                                  dir_ / "export.log", std::chrono::seconds(30));
    ASSERT_EQ(exported.exit_code, 0) << "tinyedge model export --c-header failed:\n" << exported.output;
  }
  void TearDown() override {
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }

  Finished configure(const fs::path& build, const std::string& toolchain) {
    return run({CMAKE_COMMAND, "-S", project_.string(), "-B", build.string(), "-DCMAKE_BUILD_TYPE=MinSizeRel",
                "-DCMAKE_TOOLCHAIN_FILE=" + (sdk_ / "lib/cmake/TinyEdgeNode" / toolchain).string(),
                "-DCMAKE_PREFIX_PATH=" + sdk_.string()},
               build.string() + ".log", std::chrono::seconds(60));
  }

  std::optional<std::string> qemu_;
  fs::path dir_, sdk_, project_;
};

TEST_F(SdkFirmware, OutsideProjectBuildsAndRunsAnM4NodeAgainstTheInstalledSdk) {
  const fs::path build = dir_ / "build";
  const Finished configured = configure(build, "arm-none-eabi.cmake");
  ASSERT_EQ(configured.exit_code, 0) << "the outside project did not configure against the SDK:\n" << configured.output;
  const Finished built =
      run({CMAKE_COMMAND, "--build", build.string(), "-j2"}, dir_ / "build-output.log", std::chrono::seconds(120));
  ASSERT_EQ(built.exit_code, 0) << "the outside project did not build against the SDK:\n" << built.output;

  const Finished booted =
      run({*qemu_, "-M", "mps2-an386", "-display", "none", "-monitor", "none", "-serial", "none", "-semihosting-config",
           "enable=on,target=native", "-kernel", (build / "sdk_node.elf").string()},
          dir_ / "qemu.log", std::chrono::seconds(30));
  ASSERT_EQ(booted.exit_code, 0) << "the SDK-built image failed under qemu:\n" << booted.output;

  FirstSample first(read_bytes(TINYEDGE_MODEL_KWS));
  ASSERT_EQ(first.interpreter.invoke(), runtime::Status::kOk);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(booted.output, m, std::regex("sdk_node: output ([0-9a-f]+)")))
      << "the image printed no output tensor:\n"
      << booted.output;
  EXPECT_EQ(m[1].str(), hex(first.interpreter.output())) << "the SDK-built node's output differs from the host's";
  EXPECT_NE(booted.output.find("sdk_node: top-1 label"), std::string::npos) << booted.output;

  // The same project configured for another core than the SDK's is refused, naming both (one
  // test with the above: the SDK is installed once).
  const Finished refused = configure(dir_ / "build-m33", "arm-none-eabi-cortex-m33.cmake");
  EXPECT_NE(refused.exit_code, 0) << "a Cortex-M33 project accepted the Cortex-M4 SDK";
  // CMake wraps the package's message: compare with the line breaks folded.
  const std::string folded = std::regex_replace(refused.output, std::regex("\\s+"), " ");
  EXPECT_NE(folded.find("is built for cortex-m4, but the project targets 'cortex-m33'"), std::string::npos)
      << refused.output;
  EXPECT_NE(folded.find("arm-none-eabi.cmake"), std::string::npos) << "no toolchain file named:\n" << refused.output;
}

}  // namespace
}  // namespace tinyedge
