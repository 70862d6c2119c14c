// The gateway library running in the test process on its own io_context thread, with its log
// captured, so tests can read metrics and log lines directly.
#pragma once
#include <boost/asio/io_context.hpp>
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
  void stop();

 private:
  gateway::Logger log_;
  boost::asio::io_context io_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
  bool stopped_ = false;
};

}  // namespace tinyedge::test
