#include "tests/gateway/support/postgres_server.h"

#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/gateway/support/mosquitto.h"

namespace tinyedge::test {

namespace fs = std::filesystem;

namespace {

// The user the server runs as when we are root: initdb and postgres refuse root.
struct RunAs {
  bool drop = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

RunAs run_as() {
  RunAs r;
  if (::geteuid() != 0) return r;
  const passwd* nobody = ::getpwnam("nobody");
  if (!nobody) throw std::runtime_error("running as root and there is no user 'nobody' to run PostgreSQL as");
  r.drop = true;
  r.uid = nobody->pw_uid;
  r.gid = nobody->pw_gid;
  return r;
}

// argv run as the server's user (setpriv execs in place, so the pid is the server's own).
std::vector<std::string> as_server_user(std::vector<std::string> argv) {
  const RunAs r = run_as();
  if (!r.drop) return argv;
  std::vector<std::string> out = {"/usr/bin/setpriv", "--reuid=" + std::to_string(r.uid),
                                  "--regid=" + std::to_string(r.gid), "--clear-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

int run(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = spawn(argv, log);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

std::string PostgresServer::bin_dir() {
  std::string best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto bin = entry.path() / "bin";
    if (fs::exists(bin / "initdb") && fs::exists(bin / "postgres") && bin.string() > best) best = bin.string();
  }
  return best;
}

PostgresServer::PostgresServer(bool durable) : bin_(bin_dir()), port_(free_port()), durable_(durable) {
  if (bin_.empty())
    throw std::runtime_error("no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)");
  dir_ = make_temp_dir("pg");
  init_data();
  start();
}

PostgresServer::PostgresServer(bool durable, const std::string& keep_dir)
    : dir_(keep_dir), bin_(bin_dir()), port_(free_port()), durable_(durable), keep_(true) {
  if (bin_.empty())
    throw std::runtime_error("no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)");
  if (!fs::exists(dir_ + "/data/PG_VERSION")) {
    fs::create_directories(dir_);
    init_data();
  }
  start();
}

void PostgresServer::init_data() {
  const RunAs r = run_as();
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                            fs::perms::others_exec);
  {
    std::ofstream pw(dir_ + "/pw");
    pw << kPassword << "\n";
  }
  fs::create_directories(dir_ + "/data");
  if (r.drop) {
    for (const auto& p : {dir_, dir_ + "/pw", dir_ + "/data"}) {
      if (::chown(p.c_str(), r.uid, r.gid) != 0) throw std::runtime_error("cannot chown " + p + " to nobody");
    }
  }
  // scram over TCP (what a gateway uses), trust on the unix socket in our own directory.
  const int rc = run(as_server_user({bin_ + "/initdb", "-D", dir_ + "/data", "-U", kUser, "--pwfile=" + dir_ + "/pw",
                                     "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync",
                                     "--no-instructions"}),
                     dir_ + "/initdb.log");
  if (rc != 0)
    throw std::runtime_error("initdb failed (" + std::to_string(rc) + "): " + read_file(dir_ + "/initdb.log"));
}

PostgresServer::~PostgresServer() {
  stop();
  std::error_code ec;
  if (!keep_) fs::remove_all(dir_, ec);
}

void PostgresServer::start() {
  if (pid_ > 0) return;
  pid_ = spawn(as_server_user({bin_ + "/postgres", "-D", dir_ + "/data", "-p", std::to_string(port_), "-k", dir_, "-c",
                               "listen_addresses=127.0.0.1", "-c", std::string("fsync=") + (durable_ ? "on" : "off"),
                               "-c", "max_connections=100", "-c", "shared_buffers=128MB"}),
               dir_ + "/postgres.log");
  const std::string ping = "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=" + kUser;
  for (int i = 0; i < 300; ++i) {
    if (PQping(ping.c_str()) == PQPING_OK) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("postgres exited at start: " + read_file(dir_ + "/postgres.log"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("postgres did not answer on port " + std::to_string(port_) +
                           " within 15 s: " + read_file(dir_ + "/postgres.log"));
}

void PostgresServer::stop() {
  if (pid_ <= 0) return;
  stop_process(pid_, SIGINT, 20000);  // fast shutdown: clients are cut off, data is flushed
  pid_ = -1;
}

std::string PostgresServer::url(const std::string& database, const std::string& password) const {
  return "postgresql://" + std::string(kUser) + ":" + password + "@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::create_database(const std::string& name) {
  PGconn* conn = PQconnectdb(url("postgres").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string error = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("cannot reach the test server: " + error);
  }
  PGresult* result = PQexec(conn, ("CREATE DATABASE \"" + name + "\"").c_str());
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  const std::string error = PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
  if (!ok) throw std::runtime_error("CREATE DATABASE " + name + ": " + error);
  return url(name);
}

}  // namespace tinyedge::test
