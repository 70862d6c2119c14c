// A real mosquitto broker for tests: free 127.0.0.1 port, generated config, killed at the end.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tinyedge::test {

uint16_t free_port();
std::string make_temp_dir(const std::string& tag);

// fork/exec with stdout+stderr to `log_path`; returns the pid.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path);
// Sends `signal` and reaps; returns the exit status from waitpid (or -1 after `timeout_ms`).
int stop_process(pid_t pid, int signal, int timeout_ms = 10000);
bool wait_port(uint16_t port, int timeout_ms);

class Mosquitto {
 public:
  explicit Mosquitto(const std::string& dir);
  ~Mosquitto();
  uint16_t port() const { return port_; }
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  void start();
  void kill9();

 private:
  std::string dir_;
  uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace tinyedge::test
