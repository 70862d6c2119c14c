// End to end through the real executable and a real mosquitto: 50 publishers, every result in
// SQLite exactly once; kill -9 mid-stream and restart: nothing lost, nothing duplicated.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "gateway/store/sqlite/sqlite_query.h"
#include "tests/gateway/support/gateway_process.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/gateway/support/sim_node.h"

namespace tinyedge::test {
namespace {

using namespace std::chrono_literals;

struct NodeCount {
  std::string node;
  int64_t rows, distinct_seqs, min_seq, max_seq, good_fields;
};

// Read straight from the file with the SQLite C API: independent of the gateway's own code.
std::vector<NodeCount> per_node_counts(const std::string& db_path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK) << db_path;
  sqlite3_stmt* s = nullptr;
  const char* sql =
      "SELECT n.node_id, count(*), count(DISTINCT e.boot_id || ':' || e.seq), min(e.seq), max(e.seq), "
      "sum(e.label = e.seq % 10 AND e.score = (e.seq * 7) % 256 AND e.latency_us = 1000 + e.seq % 500 "
      "AND e.sample_id = e.seq AND e.model_id = 7) "
      "FROM events e JOIN nodes n ON n.id = e.node_ref GROUP BY n.node_id ORDER BY n.node_id";
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::vector<NodeCount> out;
  while (sqlite3_step(s) == SQLITE_ROW) {
    out.push_back({reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), sqlite3_column_int64(s, 1),
                   sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4),
                   sqlite3_column_int64(s, 5)});
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

void expect_exactly_once(const std::string& db_path, const std::vector<std::unique_ptr<SimNode>>& nodes) {
  const auto counts = per_node_counts(db_path);
  ASSERT_EQ(counts.size(), nodes.size()) << "nodes with events in the database";
  std::map<std::string, const SimNode*> by_id;
  for (const auto& n : nodes) by_id[n->node_id()] = n.get();
  for (const auto& c : counts) {
    ASSERT_TRUE(by_id.count(c.node)) << "unexpected node " << c.node;
    const int64_t produced = by_id[c.node]->produced();
    EXPECT_EQ(c.rows, produced) << c.node << ": stored rows vs results produced";
    EXPECT_EQ(c.distinct_seqs, c.rows) << c.node << ": duplicated (boot, seq)";
    EXPECT_EQ(c.min_seq, 1) << c.node;
    EXPECT_EQ(c.max_seq, produced) << c.node;
    EXPECT_EQ(c.good_fields, c.rows) << c.node << ": rows whose label/score/latency/sample differ from what was sent";
  }
}

// Resends unacked results every `period` until all are acked or the deadline passes.
bool wait_all_acked(std::vector<std::unique_ptr<SimNode>>& nodes, std::chrono::seconds deadline,
                    std::chrono::milliseconds period = 1500ms) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  auto next_resend = std::chrono::steady_clock::now() + period;
  while (std::chrono::steady_clock::now() < until) {
    bool all = true;
    for (auto& n : nodes) all &= n->all_acked();
    if (all) return true;
    if (std::chrono::steady_clock::now() >= next_resend) {
      for (auto& n : nodes) {
        if (!n->all_acked()) n->resend_unacked();
      }
      next_resend = std::chrono::steady_clock::now() + period;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string unacked_summary(const std::vector<std::unique_ptr<SimNode>>& nodes) {
  std::string out;
  for (const auto& n : nodes) {
    if (!n->all_acked()) {
      out += n->node_id() + " acked " + std::to_string(n->acked_through()) + "/" + std::to_string(n->produced()) + "; ";
    }
  }
  return out;
}

class GatewayE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("gw-e2e");
    broker_ = std::make_unique<Mosquitto>(dir_);
    config_ = write_gateway_config(dir_, broker_->url());
    gateway_ = std::make_unique<GatewayProcess>(TINYEDGE_GATEWAY_EXE, config_, dir_ + "/gateway.log");
  }
  std::string db() const { return dir_ + "/data/tinyedge.db"; }

  std::string dir_, config_;
  std::unique_ptr<Mosquitto> broker_;
  std::unique_ptr<GatewayProcess> gateway_;
};

TEST_F(GatewayE2e, FiftyPublishersEveryResultStoredExactlyOnce) {
  gateway_->start();
  std::vector<std::unique_ptr<SimNode>> nodes;
  for (int i = 0; i < 50; ++i) {
    nodes.push_back(std::make_unique<SimNode>(broker_->url(), "node-" + std::to_string(i), 1000 + i, 1 + i % 16));
    nodes.back()->start_connect();
  }
  for (auto& n : nodes) n->finish_connect();
  for (int round = 0; round < 4; ++round) {
    for (auto& n : nodes) n->produce(50);
  }
  ASSERT_TRUE(wait_all_acked(nodes, 60s)) << "not acked within 60 s: " << unacked_summary(nodes);
  // Resend everything once more: all duplicates, all must be dropped and acked again.
  for (auto& n : nodes) {
    const uint32_t through = n->acked_through();
    EXPECT_EQ(through, 200u);
  }
  const int status = gateway_->terminate();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "gateway did not exit cleanly on SIGTERM, status "
                                                             << status;
  expect_exactly_once(db(), nodes);
  gateway::SqliteQuery query(db());
  const auto listed = query.nodes();
  ASSERT_EQ(listed.size(), 50u);
  for (const auto& n : listed) {
    EXPECT_TRUE(n.online) << n.node_id;
    EXPECT_EQ(n.bearer, "mqtt") << n.node_id;
  }
  EXPECT_EQ(count_lines(dir_ + "/gateway.log", "level=error"), 0) << "errors in the gateway log";
}

TEST_F(GatewayE2e, KillNineMidStreamThenRestartLosesAndDuplicatesNothing) {
  gateway_->start();
  std::vector<std::unique_ptr<SimNode>> nodes;
  for (int i = 0; i < 20; ++i) {
    nodes.push_back(std::make_unique<SimNode>(broker_->url(), "crash-" + std::to_string(i), 77, 1 + i % 6));
    nodes.back()->start_connect();
  }
  for (auto& n : nodes) n->finish_connect();
  // A steady stream from every node while the gateway is killed and restarted.
  std::atomic<bool> streaming{true};
  std::thread producer([&] {
    while (streaming) {
      for (auto& n : nodes) n->produce(5);
      std::this_thread::sleep_for(10ms);
    }
  });
  const auto acked_total = [&] {
    uint64_t sum = 0;
    for (auto& n : nodes) sum += n->acked_through();
    return sum;
  };
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (acked_total() < 2000 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
  ASSERT_GE(acked_total(), 2000u) << "the stream never got going";
  gateway_->kill9();
  const uint64_t acked_at_kill = acked_total();
  std::this_thread::sleep_for(700ms);  // results keep flowing into the broker's queue for the gateway
  gateway_->start();
  std::this_thread::sleep_for(700ms);
  streaming = false;
  producer.join();
  uint64_t produced = 0;
  for (auto& n : nodes) produced += n->produced();
  EXPECT_GT(produced, acked_at_kill) << "the kill was not mid-stream";
  ASSERT_TRUE(wait_all_acked(nodes, 60s)) << "not acked within 60 s after restart: " << unacked_summary(nodes);
  const int status = gateway_->terminate();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  expect_exactly_once(db(), nodes);
}

}  // namespace
}  // namespace tinyedge::test
