// A real PostgreSQL server for tests and benchmarks: initdb into a temporary directory, postgres
// on a free 127.0.0.1 port with its unix socket in that directory, password login over TCP (so a
// wrong password is refused as in production), stopped and removed at the end. The server
// refuses to run as root, so under root (CI) it runs as the unprivileged user `nobody`.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace tinyedge::test {

class PostgresServer {
 public:
  static constexpr const char* kUser = "tinyedge";
  static constexpr const char* kPassword = "tinyedge-test";

  // Empty if this machine has no PostgreSQL server binaries (Debian's postgresql package).
  static std::string bin_dir();

  // durable=false turns fsync off: faster tests; benchmarks keep it on.
  explicit PostgresServer(bool durable = false);
  // A server whose data directory is `keep_dir` (created on first use, kept afterwards): for
  // benchmark stores that take minutes to fill and are reused by later runs.
  PostgresServer(bool durable, const std::string& keep_dir);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  uint16_t port() const { return port_; }
  // A new, empty database; returns its URL (password login over TCP).
  std::string create_database(const std::string& name);
  std::string url(const std::string& database, const std::string& password = kPassword) const;
  // Fast shutdown (clients are disconnected) and start again on the same port and data.
  void stop();
  void start();

 private:
  std::string dir_;
  std::string bin_;
  uint16_t port_;
  bool durable_;
  bool keep_ = false;
  void init_data();
  pid_t pid_ = -1;
};

}  // namespace tinyedge::test
