// Runs the real tinyedge-gateway executable for integration tests.
#pragma once
#include <sys/types.h>

#include <string>

namespace tinyedge::test {

// Writes a config for a broker at `url` with data in `dir`; returns its path.
std::string write_gateway_config(const std::string& dir, const std::string& url, const std::string& extra_json = "");

class GatewayProcess {
 public:
  GatewayProcess(std::string exe, std::string config, std::string log_path);
  ~GatewayProcess();
  // Starts it and waits until it has subscribed (the `subscribed_count`-th "subscribed" line).
  void start();
  int terminate();  // SIGTERM; returns waitpid status
  void kill9();
  bool running() const { return pid_ > 0; }

 private:
  std::string exe_, config_, log_;
  pid_t pid_ = -1;
  int starts_ = 0;
};

// Number of lines of `path` that contain `needle`.
int count_lines(const std::string& path, const std::string& needle);
bool wait_for_lines(const std::string& path, const std::string& needle, int count, int timeout_ms);

}  // namespace tinyedge::test
