// Shared by the rollout integration test and bench_rollout: the gateway daemon's pieces (gateway
// library + rollout runner) on an io_context thread of their own, and small process helpers.
#pragma once
#include <sys/wait.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "service/dashboard_wiring.h"
#include "gateway/daemon.h"
#include "gateway/rollout/rollout_runner.h"
#include "ota/package.h"
#include "ota/sha256.h"
#include "tests/gateway/support/mosquitto.h"

namespace tinyedge::rollout::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string shared_model(const std::string& file) {
  const char* env = std::getenv("TINYEDGE_SHARED_MODELS");
  fs::path dir = env ? fs::path(env) : fs::path(TINYEDGE_SOURCE_DIR) / ".." / "shared" / "models";
  return (dir / file).string();
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Runs a command to completion; "" on success, else what it printed.
inline std::string run_cli(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = test::spawn(args, log);
  int status = test::stop_process(pid, 0, 300000);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  return "command failed: " + args[1] + " " + args[2] + "\n" + read_text(log);
}

// Runs a command to completion and returns what it printed (stdout + stderr); `ok` says whether
// it exited 0.
inline std::string run_cli_output(const std::vector<std::string>& args, const std::string& log, bool& ok) {
  fs::remove(log);
  pid_t pid = test::spawn(args, log);
  int status = test::stop_process(pid, 0, 60000);
  ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return read_text(log);
}

// `tinyedge package create` of a .tem as `version`, signed with `<keys>.key`, plus `package_args`.
inline std::string package_tem(const std::string& tem, uint32_t version, const std::string& tep,
                               const std::string& keys, const std::vector<std::string>& package_args,
                               const std::string& log_dir) {
  std::vector<std::string> args = {TINYEDGE_CLI_EXE, "package", "create", "--model", tem, "--version",
                                   std::to_string(version), "--key", keys + ".key", "-o", tep};
  args.insert(args.end(), package_args.begin(), package_args.end());
  return run_cli(args, log_dir + "/package.log");
}

// `tinyedge model import` of an MLPerf Tiny .tflite as `version`, then `tinyedge package create`
// signed with `<keys>.key`, plus any `package_args` (--hardware, --self-test, ...). "" on success.
inline std::string import_and_package(const std::string& tflite, uint32_t version, const std::string& tem,
                                      const std::string& tep, const std::string& keys,
                                      const std::vector<std::string>& package_args, const std::string& log_dir) {
  const std::string cli = TINYEDGE_CLI_EXE;
  std::string error = run_cli({cli, "model", "import", tflite, "--version", std::to_string(version), "-o", tem},
                              log_dir + "/import.log");
  if (!error.empty()) return error;
  return package_tem(tem, version, tep, keys, package_args, log_dir);
}

// The gateway daemon's pieces on a thread of their own: the gateway library, the rollout runner
// and, when `api_port` is set, the dashboard API (REST) the `tinyedge` CLI talks to, with one
// operator token (api_token()).
class GatewayUnderTest {
 public:
  // `keys`: path prefix of the fleet key pair; `rollback_key`: the rollback-only private key that
  // signs grants ("" = no rollbacks), as tinyedge-gateway --rollback-key takes it.
  GatewayUnderTest(const std::string& dir, const std::string& broker, const std::string& keys,
                   uint64_t ota_rate = 4u << 20, uint16_t api_port = 0, const std::string& rollback_key = "") {
    gateway::GatewayConfig config;
    config.data_dir = dir + "/data";
    config.mqtt.url = broker;
    config.mqtt.client_id = "gw-rollout";
    config.store.path = config.db_path();
    config.api.port = api_port;
    const std::string token = api_token();
    config.api.tokens = {{"sha256:" + ota::hex(ota::sha256(std::span(
                                          reinterpret_cast<const uint8_t*>(token.data()), token.size()))),
                          "operator"}};
    fs::create_directories(config.data_dir);
    log_.set_level(gateway::LogLevel::kWarn);
    gateway_ = std::make_unique<gateway::Gateway>(io_, config, log_);
    gateway_->start();
    RolloutOptions options;
    options.fleet_public_keys = {keys + ".pub"};
    options.grant_key = rollback_key;
    options.ota.bytes_per_second = ota_rate;
    runner_ = std::make_unique<RolloutRunner>(io_, *gateway_, options);
    runner_->start();
    if (api_port) dashboard_ = dashboard::start_dashboard(io_, *gateway_, &runner_->control());
    thread_ = std::thread([this] {
      auto guard = boost::asio::make_work_guard(io_);
      io_.run();
    });
  }
  ~GatewayUnderTest() { stop(); }
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      if (dashboard_) dashboard_->stop();
      runner_->stop();
      gateway_->shutdown([&] { done.set_value(); });
    });
    done.get_future().wait_for(20s);
    io_.stop();
    thread_.join();
  }
  static std::string api_token() { return "rollout-test-operator"; }
  RolloutControl& control() { return runner_->control(); }
  RolloutService& service() { return runner_->service(); }
  gateway::Gateway& gateway() { return *gateway_; }
  int online_nodes() {
    int n = 0;
    for (const auto& row : gateway_->open_query()->nodes()) n += row.online ? 1 : 0;
    return n;
  }

 private:
  gateway::Logger log_;
  boost::asio::io_context io_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::unique_ptr<RolloutRunner> runner_;
  std::unique_ptr<dashboard::DashboardApi> dashboard_;
  std::thread thread_;
  bool stopped_ = false;
};

template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return pred();
}

}  // namespace tinyedge::rollout::testing
