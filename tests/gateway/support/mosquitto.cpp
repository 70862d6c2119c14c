#include "tests/gateway/support/mosquitto.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace tinyedge::test {

uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind port 0 failed");
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string make_temp_dir(const std::string& tag) {
  std::string pattern = "/tmp/tinyedge-" + tag + "-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

int stop_process(pid_t pid, int signal, int timeout_ms) {
  ::kill(pid, signal);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

bool wait_port(uint16_t port, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

Mosquitto::Mosquitto(const std::string& dir) : dir_(dir), port_(free_port()) { start(); }

Mosquitto::~Mosquitto() {
  if (pid_ > 0) stop_process(pid_, SIGTERM, 3000);
}

void Mosquitto::start() {
  // Already running (the constructor starts it): a second broker on the same port would fail to
  // bind, and the first, no longer tracked, would outlive the test.
  if (pid_ > 0) return;
  const std::string conf = dir_ + "/mosquitto.conf";
  std::ofstream out(conf);
  // Queues are unbounded so a gateway that is down for a moment finds its session intact.
  out << "listener " << port_ << " 127.0.0.1\n"
      << "allow_anonymous true\n"
      << "persistence false\n"
      << "max_queued_messages 0\n"
      << "max_inflight_messages 0\n"
      << "max_packet_size 1048576\n"
      << "log_dest stderr\n"
      << "log_type error\n"
      << "log_type warning\n";
  out.close();
  pid_ = spawn({"/usr/sbin/mosquitto", "-c", conf}, dir_ + "/mosquitto.log");
  if (!wait_port(port_, 5000)) throw std::runtime_error("mosquitto did not start on port " + std::to_string(port_));
}

void Mosquitto::kill9() {
  if (pid_ > 0) stop_process(pid_, SIGKILL, 3000);
  pid_ = -1;
}

}  // namespace tinyedge::test
