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

#include "gateway/daemon.h"
#include "gateway/rollout/rollout_runner.h"
#include "tests/gateway/support/mosquitto.h"

namespace tinyedge::rollout::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string shared_model(const std::string& file) {
  const char* env = std::getenv("TINYEDGE_SHARED_MODELS");
  fs::path dir = env ? fs::path(env) : fs::path(TINYEDGE_SOURCE_DIR) / ".." / "shared" / "models";
  return (dir / file).string();
}

// Runs a command to completion; "" on success, else what it printed.
inline std::string run_cli(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = test::spawn(args, log);
  int status = test::stop_process(pid, 0, 300000);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return "command failed: " + args[1] + " " + args[2] + "\n" + text;
}

// The gateway daemon's pieces on a thread of their own.
class GatewayUnderTest {
 public:
  GatewayUnderTest(const std::string& dir, const std::string& broker, const std::string& keys,
                   uint64_t ota_rate = 4u << 20) {
    gateway::GatewayConfig config;
    config.data_dir = dir + "/data";
    config.mqtt.url = broker;
    config.mqtt.client_id = "gw-rollout";
    config.store.path = config.db_path();
    fs::create_directories(config.data_dir);
    log_.set_level(gateway::LogLevel::kWarn);
    gateway_ = std::make_unique<gateway::Gateway>(io_, config, log_);
    gateway_->start();
    RolloutOptions options;
    options.fleet_public_keys = {keys + ".pub"};
    options.grant_key = keys + ".key";
    options.ota.bytes_per_second = ota_rate;
    runner_ = std::make_unique<RolloutRunner>(io_, *gateway_, options);
    runner_->start();
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
      runner_->stop();
      gateway_->shutdown([&] { done.set_value(); });
    });
    done.get_future().wait_for(20s);
    io_.stop();
    thread_.join();
  }
  RolloutControl& control() { return runner_->control(); }
  RolloutService& service() { return runner_->service(); }
  gateway::Gateway& gateway() { return *gateway_; }

 private:
  gateway::Logger log_;
  boost::asio::io_context io_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::unique_ptr<RolloutRunner> runner_;
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
