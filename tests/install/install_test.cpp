// `cmake --install` into a staging root (DESTDIR), then the fleet from the installed files only:
// the installed CLI makes the fleet key and provisions a node, mosquitto runs on the provisioned
// settings, the installed gateway starts exactly as the installed systemd unit's ExecStart says
// (its paths under the staging root) with the installed default config, the installed simulator
// sends results, and the installed CLI finds one stored through the gateway's API.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/node/broker.h"
#include "tests/node/process.h"
#include "tests/runtime/tiny_model.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Result {
  int status;
  std::string output;
};

Result shell(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::string output;
  std::array<char, 512> buffer;
  while (pipe && fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  const int status = pipe ? pclose(pipe) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// Replaces `from` (which must occur exactly once: the test notices a changed default config).
void replace_once(std::string& text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << "the installed config no longer has " << from;
  ASSERT_EQ(text.find(from, at + 1), std::string::npos) << "the installed config has " << from << " twice";
  text.replace(at, from.size(), to);
}

class InstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    work = fs::temp_directory_path() / ("tinyedge_install_" + std::to_string(::getpid()));
    fs::remove_all(work);
    fs::create_directories(work);
    root = work / "root";
  }
  void TearDown() override {
    processes.clear();
    if (!HasFailure()) fs::remove_all(work);
  }
  fs::path staged(const std::string& absolute) const { return root / fs::path(absolute).relative_path(); }
  fs::path bin(const std::string& name) const { return staged(TINYEDGE_INSTALL_BINDIR) / name; }
  tinyedge::testing::ChildProcess& spawn(const std::vector<std::string>& argv, const std::string& log) {
    processes.emplace_back(std::make_unique<tinyedge::testing::ChildProcess>(argv, (work / log).string()));
    return *processes.back();
  }

  fs::path work, root;
  std::vector<std::unique_ptr<tinyedge::testing::ChildProcess>> processes;
};

TEST_F(InstallTest, InstalledGatewayStoresAResultFromAnInstalledNode) {
  const auto install = shell("DESTDIR=" + root.string() + " " + CMAKE_COMMAND + " --install " + TINYEDGE_BUILD_DIR);
  ASSERT_EQ(install.status, 0) << install.output;

  // Every binary, the unit, the user and directory entries, the config and each package's docs.
  const std::string etc = TINYEDGE_INSTALL_ETC;
  for (const std::string& file :
       {bin("tinyedge").string(), bin("tinyedge-gateway").string(), bin("tinyedge-node").string(),
        staged(TINYEDGE_INSTALL_UNIT).string(), staged(etc + "/gateway.json").string(),
        staged(std::string(TINYEDGE_INSTALL_PREFIX) + "/lib/sysusers.d/tinyedge.conf").string(),
        staged(std::string(TINYEDGE_INSTALL_PREFIX) + "/lib/tmpfiles.d/tinyedge.conf").string()}) {
    EXPECT_TRUE(fs::is_regular_file(file)) << file << " was not installed";
  }
#ifdef TINYEDGE_INSTALL_TRAINER
  // `tinyedge train` execs the installed trainer, the one executable that links libtorch.
  EXPECT_TRUE(fs::is_regular_file(staged(TINYEDGE_INSTALL_TRAINER)))
      << TINYEDGE_INSTALL_TRAINER << " was not installed";
  const auto train_help = shell(bin("tinyedge").string() + " train --help");
  EXPECT_EQ(train_help.status, 0) << train_help.output;
  EXPECT_NE(train_help.output.find("anomaly"), std::string::npos) << "not the trainer's help: " << train_help.output;
#endif
  for (const char* package : {"tinyedge", "tinyedge-gateway", "tinyedge-node"}) {
    const auto doc = staged(TINYEDGE_INSTALL_DOC) / package;
    EXPECT_TRUE(fs::is_regular_file(doc / "copyright") && fs::is_regular_file(doc / "changelog.gz")) << doc;
  }
  EXPECT_NE(slurp(staged(std::string(TINYEDGE_INSTALL_PREFIX) + "/lib/sysusers.d/tinyedge.conf")).find("u tinyedge "),
            std::string::npos);
  const std::string unit = slurp(staged(TINYEDGE_INSTALL_UNIT));
  EXPECT_NE(unit.find("User=tinyedge"), std::string::npos) << unit;
  std::smatch exec;
  ASSERT_TRUE(std::regex_search(unit, exec, std::regex("\nExecStart=([^\n]*)"))) << unit;
  std::vector<std::string> argv = split_words(exec[1]);
  ASSERT_GE(argv.size(), 3u);
  EXPECT_EQ(argv[0], (fs::path(TINYEDGE_INSTALL_BINDIR) / "tinyedge-gateway").string());
  for (auto& word : argv) {
    if (!word.empty() && word[0] == '/') word = staged(word).string();  // every installed path, under the root
  }
  fs::create_directories(staged("/var/lib/tinyedge"));

  // The installed CLI: fleet key and one provisioned node.
  const int mqtt_port = tinyedge::testing::free_tcp_port(), api_port = tinyedge::testing::free_tcp_port();
  const std::string broker = "tcp://127.0.0.1:" + std::to_string(mqtt_port);
  auto r = shell(bin("tinyedge").string() + " keys generate --out " + (work / "fleet").string());
  ASSERT_EQ(r.status, 0) << r.output;
  r = shell(bin("tinyedge").string() + " fleet provision --nodes inst-1 --out " + (work / "prov").string() +
            " --broker " + broker + " --fleet-key " + (work / "fleet.pub").string());
  ASSERT_EQ(r.status, 0) << r.output;

  std::ofstream(work / "mosquitto.conf") << "listener " << mqtt_port << " 127.0.0.1\npersistence false\n"
                                         << slurp(work / "prov" / "mosquitto.conf");
  spawn({tinyedge::testing::kMosquitto, "-c", (work / "mosquitto.conf").string()}, "mosquitto.log");

  // The installed default config, edited as an operator would: broker, its password, API port, a token.
  const fs::path config = staged(etc + "/gateway.json");
  std::string text = slurp(config);
  std::string password = slurp(work / "prov" / "gateway.password");
  password.pop_back();
  replace_once(text, "\"url\": \"tcp://127.0.0.1:1883\"", "\"url\": \"" + broker + "\"");
  replace_once(text, "\"password\": \"\"", "\"password\": \"" + password + "\"");
  replace_once(text, "\"port\": 8080", "\"port\": " + std::to_string(api_port));
  // sha256 of "install-test-token"
  const std::string token = "install-test-token";
  const auto hash = shell("printf %s " + token + " | sha256sum | cut -d' ' -f1");
  ASSERT_EQ(hash.status, 0);
  replace_once(text, "\"tokens\": []",
               "\"tokens\": [{\"token\": \"sha256:" + hash.output.substr(0, 64) + "\", \"role\": \"viewer\"}]");
  std::ofstream(config) << text;

  auto& gateway = spawn(argv, "gateway.log");
  std::ofstream(work / "m.tem", std::ios::binary)
      .write(reinterpret_cast<const char*>(tinyedge::testing::kTinyModelTem), tinyedge::testing::kTinyModelTemSize);
  spawn({bin("tinyedge-node").string(), "--id", "inst-1", "--model", (work / "m.tem").string(), "--provisioned",
         (work / "prov" / "nodes").string(), "--trust-key", (work / "fleet.pub").string(), "--interval-ms", "200"},
        "node.log");

  // One result of inst-1 stored and served back, through the installed CLI.
  const std::string logs = bin("tinyedge").string() +
                           " logs --node inst-1 --format csv --gateway http://127.0.0.1:" + std::to_string(api_port) +
                           " --token " + token;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  Result last{};
  for (;;) {
    ASSERT_FALSE(gateway.wait_for(0ms)) << "the installed gateway exited: " << slurp(work / "gateway.log");
    last = shell(logs);
    if (last.status == 0 && last.output.find("inst-1") != std::string::npos) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "no result of inst-1 reached the installed gateway's store; last `tinyedge logs`: " << last.output
        << "\ngateway log:\n"
        << slurp(work / "gateway.log") << "\nnode log:\n"
        << slurp(work / "node.log");
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_TRUE(fs::exists(staged("/var/lib/tinyedge/tinyedge.db"))) << "the store is not under the unit's --data-dir";
}

}  // namespace
