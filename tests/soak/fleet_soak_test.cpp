// Fleet soak: 200 host nodes (4 tinyedge-node processes of 50) at 5 results/s each for 2 minutes
// against a real mosquitto and the real tinyedge-gateway process, while an operator rolls model v2
// out with the `tinyedge` CLI (canary, then waves with soak times). During the run the broker is
// killed and restarted, and later the gateway is SIGKILLed and restarted, both while the rollout
// is running. Afterwards, with every process stopped:
//   - each (node, boot, seq) a node's --sent-log says it sent is in the store's events table
//     exactly once, and the table holds nothing no node sent;
//   - the rollout completed with every target node activated, and every node's newest result
//     was made by v2.
// Prints the figures: results sent/stored/duplicates, rollout duration, recovery after each fault.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "ota/sha256.h"
#include "tests/gateway/support/gateway_process.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/node/process.h"
#include "tests/soak/fleet_cli.h"
#include "tests/soak/sent_ledger.h"
#include "tests/soak/store_audit.h"

namespace tinyedge::soak {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kProcesses = 4;
constexpr int kNodesPerProcess = 50;
constexpr int kNodes = kProcesses * kNodesPerProcess;
constexpr int kIntervalMs = 200;  // 5 results/s per node
constexpr auto kSoak = 120s;
constexpr auto kRolloutGrace = 60s;  // after the soak, how long the rollout may still take
constexpr uint32_t kNewVersion = 2;

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string shared_model(const std::string& file) {
  const char* env = std::getenv("TINYEDGE_SHARED_MODELS");
  const fs::path dir = env ? fs::path(env) : fs::path(TINYEDGE_SOURCE_DIR) / ".." / "shared" / "models";
  return (dir / file).string();
}

std::string hex(const ota::Digest& d) {
  std::string out;
  char b[3];
  for (uint8_t byte : d) {
    std::snprintf(b, sizeof b, "%02x", byte);
    out += b;
  }
  return out;
}

// `key=value` from the first line of a gateway log that contains `needle`; "?" if absent.
std::string logged_value(const std::string& log, const std::string& needle, const std::string& key) {
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(needle) == std::string::npos) continue;
    const size_t at = line.find(" " + key + "=");
    if (at == std::string::npos) return "?";
    const size_t start = at + key.size() + 2;
    return line.substr(start, line.find(' ', start) - start);
  }
  return "?";
}

// The real daemon, started with the fleet key (rollouts on) and the dashboard API on `api_port`.
class GatewayDaemon {
 public:
  GatewayDaemon(std::string dir, std::string config, std::string fleet_pub, uint16_t api_port)
      : dir_(std::move(dir)), config_(std::move(config)), fleet_pub_(std::move(fleet_pub)), api_port_(api_port) {}
  ~GatewayDaemon() {
    if (pid_ > 0) test::stop_process(pid_, SIGKILL, 3000);
  }
  // Starts instance number `++starts_`, logging to gateway-<n>.log, and waits until it has
  // subscribed and its API answers.
  void start() {
    log_ = dir_ + "/gateway-" + std::to_string(++starts_) + ".log";
    pid_ = test::spawn({TINYEDGE_GATEWAY_EXE, "--config", config_, "--fleet-key", fleet_pub_}, log_);
    if (!test::wait_for_lines(log_, "msg=subscribed", 1, 20000) || !test::wait_port(api_port_, 10000)) {
      throw std::runtime_error("gateway did not come up within 30 s; see " + log_);
    }
  }
  void kill9() {
    test::stop_process(pid_, SIGKILL, 3000);
    pid_ = -1;
  }
  int terminate() {
    const int status = test::stop_process(pid_, SIGTERM, 30000);
    pid_ = -1;
    return status;
  }
  const std::string& log() const { return log_; }

 private:
  std::string dir_, config_, fleet_pub_, log_;
  uint16_t api_port_;
  pid_t pid_ = -1;
  int starts_ = 0;
};

struct Fault {
  bool done = false;
  int64_t down_ms = 0, up_ms = 0;  // Unix ms
  double at_s = 0;                 // into the soak
  std::string rollout_then;        // the rollout's state and phase when it happened
};

class FleetSoak : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = shared_model("ad01_int8.tflite");
    if (!fs::exists(model_)) {
      if (const char* ci = std::getenv("CI"); ci && std::string(ci) == "true") FAIL() << "missing " << model_;
      GTEST_SKIP() << "MLPerf Tiny model not found at " << model_ << " (needs ../shared/models)";
    }
    dir_ = test::make_temp_dir("soak");
    token_ = "soak-operator-" + std::to_string(::getpid());
    api_port_ = test::free_port();
    // The CLI reads these, as in scripts/demo.
    ::setenv("TINYEDGE_GATEWAY", ("http://127.0.0.1:" + std::to_string(api_port_)).c_str(), 1);
    ::setenv("TINYEDGE_TOKEN", token_.c_str(), 1);
  }
  void TearDown() override {
    nodes_.clear();
    gateway_.reset();
    broker_.reset();
    // TINYEDGE_SOAK_KEEP=1 keeps logs, sent logs and the store of a passing run too.
    const bool keep = std::getenv("TINYEDGE_SOAK_KEEP") != nullptr;
    if (!HasFailure() && !keep && !dir_.empty())
      fs::remove_all(dir_);
    else if (!dir_.empty())
      std::printf("soak: logs and store kept in %s\n", dir_.c_str());
  }

  CliResult cli(std::vector<std::string> args, int timeout_ms = 60000) {
    args.insert(args.begin(), TINYEDGE_CLI_EXE);
    return run_command(args, dir_ + "/cli-" + std::to_string(++cli_calls_) + ".log", timeout_ms);
  }
  void must(const std::vector<std::string>& args) {
    const CliResult r = cli(args);
    if (!r.ok()) throw std::runtime_error("tinyedge " + args[0] + " " + args[1] + " failed: " + r.output);
  }
  std::optional<RolloutStatus> status(int64_t id) {
    const CliResult r = cli({"rollout", "status", std::to_string(id)}, 20000);
    return r.ok() ? parse_rollout_status(r.output) : std::nullopt;
  }
  std::string write_config() {
    const std::string path = dir_ + "/gateway.json";
    std::ofstream out(path);
    const std::string hash = hex(ota::sha256({reinterpret_cast<const uint8_t*>(token_.data()), token_.size()}));
    // A fixed client id: the broker keeps the gateway's session (and queues uplinks) while it is down.
    out << "{\n  \"data_dir\": \"" << dir_ << "/data\",\n  \"log_level\": \"info\",\n"
        << "  \"mqtt\": {\"url\": \"" << broker_->url() << "\", \"client_id\": \"soak-gateway\"},\n"
        << "  \"api\": {\"listen\": \"127.0.0.1\", \"port\": " << api_port_
        << ", \"tokens\": [{\"token\": \"sha256:" << hash << "\", \"role\": \"operator\"}]}\n}\n";
    return path;
  }
  void start_nodes() {
    for (int p = 1; p <= kProcesses; ++p) {
      const std::string k = std::to_string(p);
      // clang-format off
      std::vector<std::string> argv = {TINYEDGE_NODE_EXE,
          "--model", dir_ + "/v1.tem",
          "--broker", broker_->url(),
          "--count", std::to_string(kNodesPerProcess),
          "--id-prefix", "soak" + k + "-",
          "--data-dir", dir_ + "/nodes" + k,
          "--trust-key", dir_ + "/fleet.pub",
          "--interval-ms", std::to_string(kIntervalMs),
          "--sent-log", dir_ + "/sent" + k + ".log",
          "--drain-ms", "20000",
          "--stats-interval", "10"};
      // clang-format on
      nodes_.emplace_back(argv, dir_ + "/nodes" + k + ".log");
    }
  }
  size_t online() {
    const CliResult r = cli({"nodes", "--status", "online", "--format", "csv"}, 20000);
    return r.ok() ? csv_rows(r.output) : 0;
  }

  std::string model_, dir_, token_;
  uint16_t api_port_ = 0;
  int cli_calls_ = 0;
  std::unique_ptr<test::Mosquitto> broker_;
  std::unique_ptr<GatewayDaemon> gateway_;
  std::vector<testing::ChildProcess> nodes_;
};

TEST_F(FleetSoak, EverySentResultStoredOnceAndRolloutCompletesThroughBrokerRestartAndGatewayKill) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines show as they happen
  // Models v1 and v2 (the same network; v2 is what the rollout ships), a fleet key, a signed package.
  must({"keys", "generate", "--out", dir_ + "/fleet"});
  for (int v : {1, 2}) {
    must({"model", "import", model_, "--model-id", "7", "--version", std::to_string(v), "-o",
          dir_ + "/v" + std::to_string(v) + ".tem"});
  }
  must({"package", "create", "--model", dir_ + "/v2.tem", "--version", "2", "--key", dir_ + "/fleet.key", "-o",
        dir_ + "/v2.tep"});

  broker_ = std::make_unique<test::Mosquitto>(dir_);  // started by its constructor
  gateway_ = std::make_unique<GatewayDaemon>(dir_, write_config(), dir_ + "/fleet.pub", api_port_);
  gateway_->start();
  start_nodes();
  const auto online_by = Clock::now() + 60s;
  size_t up = 0;
  while ((up = online()) < kNodes && Clock::now() < online_by) std::this_thread::sleep_for(500ms);
  ASSERT_EQ(up, static_cast<size_t>(kNodes)) << "nodes online per `tinyedge nodes` after 60 s; see " << dir_;

  const auto soak_start = Clock::now();
  // clang-format off
  const CliResult started = cli({"rollout", "start",
                                 "--package", dir_ + "/v2.tep",
                                 "--target", "all",
                                 "--canary", "5",
                                 "--waves", "25,100",
                                 "--soak", "10s",
                                 "--max-concurrent", "200",
                                 "--node-timeout", "60s",
                                 "--deadline", "10m",
                                 "--max-failures", "5%",
                                 "--no-gate"});
  // clang-format on
  ASSERT_TRUE(started.ok()) << started.output;
  const auto rollout_id = parse_started_id(started.output);
  ASSERT_TRUE(rollout_id) << "cannot read the rollout id from: " << started.output;

  // Faults land while the rollout runs: the broker restart once a wave is transferring (at 25..50 s),
  // the gateway kill 5 s into the last wave's transfers (at least 20 s later, by 90 s at the latest).
  Fault broker, gateway;
  std::optional<double> last_wave_seen;
  const auto moment = [](const std::optional<RolloutStatus>& s) {
    return s ? s->state + " in " + s->phase + ", " + std::to_string(s->count("downloading")) + " nodes downloading"
             : std::string("unknown (status failed)");
  };
  std::optional<double> completed_at;
  std::string last_status = "(none yet)", last_phase;
  double last_print = 0;
  const auto end = soak_start + kSoak;
  while (Clock::now() < end || (!completed_at && Clock::now() < end + kRolloutGrace)) {
    const double t = seconds_since(soak_start);
    const auto s = status(*rollout_id);
    if (s) {
      const std::string now = s->state + ", " + s->phase + ", activated " + std::to_string(s->count("activated")) +
                              ", in flight " + std::to_string(s->in_flight());
      // The rollout's course, for the CI log: every change of state or phase, and every 10 s.
      if (s->state + s->phase != last_phase || t >= last_print + 10) {
        std::printf("soak t=%5.1fs rollout %s\n", t, now.c_str());
        last_phase = s->state + s->phase;
        last_print = t;
      }
      last_status = now;
      if (s->state == "completed" && !completed_at) completed_at = t;
      if (s->phase.rfind("wave 2", 0) == 0 && s->in_flight() > 0 && !last_wave_seen) last_wave_seen = t;
    }
    if (!broker.done && t >= 25 && ((s && s->in_flight() > 0) || t >= 50)) {
      broker.rollout_then = moment(s);
      broker.at_s = t;
      broker.down_ms = unix_ms();
      broker_->kill9();
      broker_->start();
      broker.up_ms = unix_ms();
      broker.done = true;
      std::printf("soak t=%5.1fs broker killed and restarted (rollout %s)\n", t, broker.rollout_then.c_str());
    } else if (broker.done && !gateway.done && t >= broker.at_s + 20 &&
               ((last_wave_seen && t >= *last_wave_seen + 5) || t >= 90)) {
      gateway.rollout_then = moment(s);
      gateway.at_s = t;
      gateway.down_ms = unix_ms();
      gateway_->kill9();
      std::this_thread::sleep_for(2s);
      gateway_->start();
      gateway.up_ms = unix_ms();
      gateway.done = true;
      std::printf("soak t=%5.1fs gateway SIGKILLed and restarted (rollout %s)\n", t, gateway.rollout_then.c_str());
    }
    std::this_thread::sleep_for(1s);
  }
  const double soaked_s = seconds_since(soak_start);

  // Stop the fleet (nodes drain their unacked results first), then the gateway cleanly.
  for (auto& n : nodes_) n.signal(SIGTERM);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    EXPECT_TRUE(nodes_[i].wait_for(40s)) << "node process " << i + 1 << " did not stop within 40 s";
    EXPECT_EQ(nodes_[i].exit_code(), 0) << "node process " << i + 1 << "; see " << dir_ << "/nodes" << i + 1 << ".log";
  }
  const int gateway_status = gateway_->terminate();
  EXPECT_TRUE(WIFEXITED(gateway_status) && WEXITSTATUS(gateway_status) == 0)
      << "gateway did not stop cleanly (status " << gateway_status << "); see " << gateway_->log();
  broker_.reset();

  ASSERT_TRUE(broker.done) << "the broker restart never happened";
  ASSERT_TRUE(gateway.done) << "the gateway kill never happened";
  EXPECT_EQ(broker.rollout_then.rfind("running", 0), 0u)
      << "the broker restart was meant to hit a running rollout; it hit: " << broker.rollout_then;
  EXPECT_EQ(gateway.rollout_then.rfind("running", 0), 0u)
      << "the gateway kill was meant to hit a running rollout; it hit: " << gateway.rollout_then;

  // What the fleet sent against what the store holds.
  SentLedger ledger;
  for (int p = 1; p <= kProcesses; ++p) ledger.add_file(dir_ + "/sent" + std::to_string(p) + ".log");
  const std::string db = dir_ + "/data/tinyedge.db";
  const std::vector<StoredEvent> events = read_events(db);
  const AuditReport report = audit(ledger, events);
  const RolloutOutcome rollout = read_rollout(db, *rollout_id);
  const std::vector<std::string> stale = nodes_not_reporting_version(events, kNewVersion);
  const std::vector<std::string> flipped = version_regressions(events);
  const std::vector<std::string> fleet_behind = fleet_view_not_on_version(db, kNewVersion);
  const Recovery after_broker = recovery_after(events, broker.down_ms, broker.up_ms);
  const Recovery after_gateway = recovery_after(events, gateway.down_ms, gateway.up_ms);

  std::printf("\nfleet soak figures (%d nodes in %d processes, one result per %d ms, %.0f s):\n", kNodes, kProcesses,
              kIntervalMs, soaked_s);
  std::printf(
      "  results sent %llu (%llu copies with resends: %llu resent), stored %llu rows, missing %llu, "
      "duplicated in store %llu, stored but never sent %llu\n",
      static_cast<unsigned long long>(report.sent_distinct), static_cast<unsigned long long>(report.sent_copies),
      static_cast<unsigned long long>(report.sent_copies - report.sent_distinct),
      static_cast<unsigned long long>(report.stored_rows), static_cast<unsigned long long>(report.missing),
      static_cast<unsigned long long>(report.duplicated), static_cast<unsigned long long>(report.unexpected));
  std::printf("  rollout %lld: %s (%s), %u/%u activated, %.1f s from start to the last node activated\n",
              static_cast<long long>(*rollout_id), rollout.state.c_str(), rollout.reason.c_str(),
              rollout.node_states.count("activated") ? rollout.node_states.at("activated") : 0u, rollout.nodes,
              (rollout.last_finished_ms - rollout.created_ms) / 1000.0);
  std::printf(
      "  broker killed at %.0f s (rollout %s), back after %lld ms; first result stored %.2f s after, "
      "everything made before it stored %.2f s after\n",
      broker.at_s, broker.rollout_then.c_str(), static_cast<long long>(broker.up_ms - broker.down_ms),
      after_broker.resumed_ms / 1000.0, after_broker.caught_up_ms / 1000.0);
  std::printf(
      "  gateway SIGKILLed at %.0f s (rollout %s), back after %lld ms; first result stored %.2f s after, "
      "everything made before it stored %.2f s after\n",
      gateway.at_s, gateway.rollout_then.c_str(), static_cast<long long>(gateway.up_ms - gateway.down_ms),
      after_gateway.resumed_ms / 1000.0, after_gateway.caught_up_ms / 1000.0);
  std::printf("  duplicates the restarted gateway received and ignored (resends of stored results): %s\n",
              logged_value(gateway_->log(), "msg=stopped", "duplicates").c_str());

  // Exactly once.
  EXPECT_TRUE(report.exactly_once()) << report.summary();
  EXPECT_EQ(report.nodes_sent, static_cast<uint64_t>(kNodes)) << report.summary();
  EXPECT_EQ(report.never_sent, 0u) << "results dropped by a node's ring before they could be sent\n"
                                   << report.summary();
  EXPECT_EQ(report.boots_without_final, 0u) << "node boots without a final sent-log line: a node did not stop cleanly";
  EXPECT_EQ(report.unacked_at_exit, 0u) << "results still unacknowledged when the nodes stopped\n" << report.summary();
  // The workload ran: a quarter of the nominal rate is far below anything the fleet delivers, so
  // this only catches a fleet that stalled, not a slow machine.
  EXPECT_GE(report.sent_distinct, static_cast<uint64_t>(kNodes * 1000 / kIntervalMs * 120 / 4)) << report.summary();

  // The rollout completed on every node, by the gateway's record and by the nodes' own results.
  EXPECT_EQ(rollout.state, "completed") << rollout.reason << "; last status seen: " << last_status;
  EXPECT_EQ(rollout.nodes, static_cast<uint32_t>(kNodes));
  EXPECT_EQ(rollout.node_states.count("activated") ? rollout.node_states.at("activated") : 0u,
            static_cast<uint32_t>(kNodes))
      << "not activated, e.g.: " << ::testing::PrintToString(rollout.not_activated_examples);
  EXPECT_TRUE(stale.empty()) << stale.size() << " nodes' newest result was not made by v" << kNewVersion << ", e.g. "
                             << stale.front();
  EXPECT_TRUE(flipped.empty()) << flipped.size() << " nodes went back to an older model, e.g. " << flipped.front();
  EXPECT_TRUE(fleet_behind.empty()) << fleet_behind.size() << " nodes not on v" << kNewVersion
                                    << " in the gateway's fleet view, e.g. " << fleet_behind.front();
  EXPECT_TRUE(completed_at) << "the CLI never showed the rollout completed; last: " << last_status;
}

}  // namespace
}  // namespace tinyedge::soak
