#include "tests/gateway/support/in_process_gateway.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <future>

namespace tinyedge::test {

InProcessGateway::InProcessGateway(gateway::GatewayConfig config) {
  log_.set_level(gateway::LogLevel::kDebug);
  log_.set_sink([this](gateway::LogLevel, const std::string& line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(line);
  });
  std::filesystem::create_directories(config.data_dir);
  gateway_ = std::make_unique<gateway::Gateway>(io_, std::move(config), log_);
  gateway_->start();
  thread_ = std::thread([this] {
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
  });
}

InProcessGateway::~InProcessGateway() { stop(); }

void InProcessGateway::stop() {
  if (stopped_) return;
  stopped_ = true;
  std::promise<void> done;
  boost::asio::post(io_, [&] {
    for (auto it = at_stop_.rbegin(); it != at_stop_.rend(); ++it) (*it)();
    gateway_->shutdown([&] { done.set_value(); });
  });
  done.get_future().wait_for(std::chrono::seconds(20));
  io_.stop();
  thread_.join();
}

void InProcessGateway::on_io(const std::function<void(boost::asio::io_context&, gateway::Gateway&)>& f) {
  std::promise<void> done;
  boost::asio::post(io_, [&] {
    try {
      f(io_, *gateway_);
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  done.get_future().get();
}

size_t InProcessGateway::log_lines_with(const std::string& needle) {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& l : lines_) n += l.find(needle) != std::string::npos;
  return n;
}

bool InProcessGateway::wait_log(const std::string& needle, size_t count, int timeout_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < until) {
    if (log_lines_with(needle) >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string InProcessGateway::log_text() {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& l : lines_) out += l + "\n";
  return out;
}

}  // namespace tinyedge::test
