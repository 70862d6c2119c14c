// A real dashboard API over a real gateway database, on a loopback port, for the API tests.
#pragma once
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "dashboard_api/dashboard_api.h"
#include "gateway/store/sqlite/sqlite_query.h"

namespace tinyedge::dashboard::testing {

inline const std::string kViewerToken = "viewer-token-0123456789";
inline const std::string kOperatorToken = "operator-token-9876543210";

class ApiServer {
 public:
  explicit ApiServer(const std::string& db_path, ServerLimits limits = {})
      : ApiServer([db_path] { return std::make_unique<gateway::SqliteQuery>(db_path); }, limits) {}
  // Over any backend's queries (the PostgreSQL benchmark).
  ApiServer(std::function<std::unique_ptr<gateway::Query>()> open_query, ServerLimits limits) {
    DashboardOptions options;
    options.listen = "127.0.0.1";
    options.port = 0;
    options.limits = limits;
    options.tokens = token_table_from_config({{"dash", "viewer", "sha256:" + to_hex(sha256(kViewerToken))},
                                              {"ops", "operator", "sha256:" + to_hex(sha256(kOperatorToken))}});
    DashboardServices services;
    services.open_query = std::move(open_query);
    services.gateway_metrics = &gateway_metrics;
    services.set_groups = [this](const gateway::GroupsItem& item) {
      std::lock_guard lock(mutex);
      groups_set.push_back(item);
      return true;
    };
    api = std::make_unique<DashboardApi>(io, std::move(options), std::move(services));
    port = api->start();
    thread = std::thread([this] { io.run(); });
  }
  ~ApiServer() {
    api->stop();
    work.reset();
    io.stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  gateway::Metrics gateway_metrics;
  std::unique_ptr<DashboardApi> api;
  uint16_t port = 0;
  std::thread thread;
  std::mutex mutex;
  std::vector<gateway::GroupsItem> groups_set;
};

inline std::string temp_db_path(const std::string& stem) {
  auto dir = std::filesystem::temp_directory_path() / ("tinyedge-dash-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / (stem + ".db")).string();
}

}  // namespace tinyedge::dashboard::testing
