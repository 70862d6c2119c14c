// A real mosquitto on 127.0.0.1, on a port chosen free at run time; it can be killed and
// restarted on the same port to simulate a broker outage.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "process.h"

namespace tinyedge::testing {

inline constexpr const char* kMosquitto = "/usr/sbin/mosquitto";

inline int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

class Broker {
 public:
  explicit Broker(const std::filesystem::path& dir) : dir_(dir), port_(free_tcp_port()) {
    std::ofstream conf(dir_ / "mosquitto.conf");
    conf << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\npersistence false\n"
         << "max_queued_messages 100000\n";
  }
  void start() {
    process_ = ChildProcess({kMosquitto, "-c", (dir_ / "mosquitto.conf").string()}, (dir_ / "mosquitto.log").string());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!port_accepts(port_)) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("mosquitto did not listen on 127.0.0.1:" + std::to_string(port_) + " (see " +
                                 (dir_ / "mosquitto.log").string() + ")");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  void kill() { process_.kill_and_wait(); }
  int port() const { return port_; }
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

 private:
  std::filesystem::path dir_;
  int port_;
  ChildProcess process_;
};

}  // namespace tinyedge::testing
