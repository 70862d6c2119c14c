// The gateway library running in the test process on its own io_context thread, with its log
// captured, so tests can read metrics and log lines directly.
#pragma once
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/daemon.h"

namespace tinyedge::test {

class InProcessGateway {
 public:
  explicit InProcessGateway(gateway::GatewayConfig config);
  ~InProcessGateway();

  gateway::Gateway& gateway() { return *gateway_; }
  gateway::Metrics& metrics() { return gateway_->metrics(); }
  size_t log_lines_with(const std::string& needle);
  bool wait_log(const std::string& needle, size_t count, int timeout_ms);
  std::string log_text();
  // Runs `f` on the gateway's io thread and waits for it: services that live beside the gateway
  // (the rollout runner, the dashboard) are wired there, as main.cpp wires them.
  void on_io(const std::function<void(boost::asio::io_context&, gateway::Gateway&)>& f);
  // Runs on the io thread when stop() begins, before the gateway shuts down (newest first).
  void at_stop(std::function<void()> f) { at_stop_.push_back(std::move(f)); }
  void stop();

 private:
  gateway::Logger log_;
  boost::asio::io_context io_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
  std::vector<std::function<void()>> at_stop_;
  bool stopped_ = false;
};

}  // namespace tinyedge::test
