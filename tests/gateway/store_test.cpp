// The store on real SQLite files: dedup, acks, migrations, retention, queries, and the failure
// paths (disk full, read-only, corrupt file, corrupt rows).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <fstream>
#include <thread>

#include "gateway/core/config.h"
#include "gateway/bearer/endpoint.h"
#include "gateway/store/sqlite/migrations.h"
#include "gateway/store/sqlite/sqlite_query.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "tinyedge.pb.h"
#include "tests/gateway/support/mosquitto.h"

namespace tinyedge::gateway {
namespace {

using namespace std::chrono_literals;

ResultsItem results(const std::string& node, uint32_t boot, uint32_t first, uint32_t count, int64_t received_ms = 0) {
  ResultsItem item{node, boot, first, 7, 3, received_ms ? received_ms : now_ms(), "mqtt", {}};
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t seq = first + i;
    item.results.push_back({seq % 10, (seq * 7) % 256, 1000 + seq, 0, seq, {{(seq + 1) % 10, 5}}});
  }
  return item;
}

// What only the SQLite backend has (migrations by user_version, a full disk, the write-ahead log,
// damaged files, row-count retention, the ack tracker cache). What every backend must do is in
// store_contract_test.cpp, run against SQLite and PostgreSQL.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("gw-store");
    options_.path = dir_ + "/t.db";
    options_.batch_linger_ms = 0;
    log_.set_sink([this](LogLevel, const std::string& line) {
      std::lock_guard lock(lines_mutex_);
      lines_.push_back(line);
    });
  }

  std::unique_ptr<SqliteStore> open_store() {
    auto store = std::make_unique<SqliteStore>(options_, metrics_, log_);
    store->start([this](std::vector<AckNotice> notices) {
      std::lock_guard lock(acks_mutex_);
      for (auto& n : notices) acks_.push_back(n);
    });
    return store;
  }
  uint32_t last_ack(const std::string& node, uint32_t boot) {
    std::lock_guard lock(acks_mutex_);
    uint32_t through = 0;
    for (const auto& a : acks_) {
      if (a.node_id == node && a.boot_id == boot) through = a.through_seq;
    }
    return through;
  }
  size_t log_lines_with(const std::string& needle) {
    std::lock_guard lock(lines_mutex_);
    size_t n = 0;
    for (const auto& l : lines_) n += l.find(needle) != std::string::npos;
    return n;
  }

  std::string dir_;
  StoreOptions options_;
  Metrics metrics_;
  Logger log_;
  std::mutex acks_mutex_, lines_mutex_;
  std::vector<AckNotice> acks_;
  std::vector<std::string> lines_;
};

TEST_F(StoreTest, MigrationsApplyOnceAndRefuseNewerOrBrokenSchemas) {
  {
    sql::Database db(options_.path, sql::Database::Mode::kReadWrite);
    EXPECT_EQ(migrate(db), static_cast<int>(migrations().size()));
    EXPECT_EQ(db.scalar("PRAGMA user_version"), migrations().back().version);
    EXPECT_EQ(migrate(db), 0) << "second run must apply nothing";
    // A broken migration appended to the list fails as a whole and leaves the version alone.
    std::vector<Migration> list(migrations().begin(), migrations().end());
    const int next = list.back().version + 1;
    list.push_back({next, "broken", "CREATE TABLE half_done(x); THIS IS NOT SQL;"});
    EXPECT_THROW(migrate(db, list), sql::Error);
    EXPECT_EQ(db.scalar("PRAGMA user_version"), next - 1);
    EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'"), 0);
    // A good one appended later applies.
    list.back() = {next, "extra", "CREATE TABLE extra(x);"};
    EXPECT_EQ(migrate(db, list), 1);
    db.exec("PRAGMA user_version = 999");
  }
  try {
    SqliteStore store(options_, metrics_, log_);
    FAIL() << "a database newer than the gateway must be refused";
  } catch (const sql::Error& error) {
    EXPECT_NE(std::string(error.what()).find("newer"), std::string::npos) << error.what();
  }
}

TEST_F(StoreTest, CorruptFileIsRefusedWithAClearError) {
  std::ofstream(options_.path) << std::string(8192, 'x');
  try {
    SqliteStore store(options_, metrics_, log_);
    FAIL() << "opened a file that is not a database";
  } catch (const sql::Error& error) {
    EXPECT_EQ(error.primary(), SQLITE_NOTADB) << error.what();
  }
}

TEST_F(StoreTest, DiskFullKeepsTheBatchUnackedAndCommitsItOnceThereIsRoom) {
  std::atomic<bool> room{false};
  options_.on_open = [&](sql::Database& db) {
    db.exec("PRAGMA max_page_count = " + std::to_string(db.scalar("PRAGMA page_count") + 3));
  };
  options_.on_disk_full_retry = [&](sql::Database& db) {
    if (room) db.exec("PRAGMA max_page_count = 1073741823");
  };
  auto store = open_store();
  for (uint32_t i = 0; i < 200; ++i) store->submit(results("full", 1, 1 + i * 16, 16));
  for (int i = 0; i < 500 && !store->disk_full(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(store->disk_full()) << "3 spare pages cannot hold 3200 results, yet the store never reported a full disk";
  EXPECT_EQ(metrics_.store_disk_full.get(), 1u);
  EXPECT_GT(metrics_.store_disk_full_errors.get(), 0u);
  EXPECT_GE(log_lines_with("disk full: batch kept unacknowledged"), 1u);
  // Retries are quiet: one error line per episode, not one per attempt.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(log_lines_with("disk full: batch kept unacknowledged"), 1u);
  EXPECT_FALSE(store->submit(results("full", 1, 3201, 16))) << "results must be refused (unacked) while full";
  EXPECT_GE(metrics_.dropped_disk_full.get(), 1u);
  SqliteQuery query(options_.path);
  EXPECT_LE(last_ack("full", 1), query.event_count()) << "an ack may never claim more than what is stored";
  // Space given back: the kept batches go in without any node resending them.
  room = true;
  store->flush();
  EXPECT_FALSE(store->disk_full());
  EXPECT_EQ(metrics_.store_disk_full.get(), 0u);
  EXPECT_EQ(last_ack("full", 1), 3200u);
  EXPECT_EQ(query.event_count(), 3200u);
  EXPECT_GE(log_lines_with("disk has room again"), 1u);
}

TEST_F(StoreTest, WriteAheadLogStaysWithinItsBound) {
  options_.wal_max_bytes = 512 * 1024;
  auto store = open_store();
  int64_t peak = 0;
  for (uint32_t round = 0; round < 12; ++round) {
    for (uint32_t i = 0; i < 100; ++i) store->submit(results("wal", 1, 1 + (round * 100 + i) * 16, 16));
    store->flush();
    peak = std::max<int64_t>(peak, std::filesystem::file_size(options_.path + "-wal"));
  }
  EXPECT_EQ(last_ack("wal", 1), 12u * 100u * 16u);
  const auto db_bytes = static_cast<int64_t>(std::filesystem::file_size(options_.path));
  // The log overshoots its bound by at most the transaction that crossed it, and is cut back
  // after: far less than all that went through it (an unbounded log holds every page written).
  EXPECT_LE(peak, 4 * options_.wal_max_bytes) << "write-ahead log peaked at " << peak << " bytes; database "
                                              << db_bytes << " bytes";
  EXPECT_GT(db_bytes, 4 * options_.wal_max_bytes) << "too little written to tell a bounded log from an unbounded one";
  EXPECT_GT(metrics_.store_wal_bytes.get(), 0u);
  EXPECT_LE(static_cast<int64_t>(metrics_.store_wal_bytes.get()), 4 * options_.wal_max_bytes);
}

TEST_F(StoreTest, ReadOnlyDatabaseNeverAcks) {
  sql::Database* writer = nullptr;
  options_.on_open = [&](sql::Database& db) {
    writer = &db;
    db.exec("PRAGMA query_only = 1");
  };
  auto store = open_store();
  store->submit(results("ro", 1, 1, 4));
  store->flush();
  EXPECT_EQ(last_ack("ro", 1), 0u);
  EXPECT_EQ(metrics_.store_errors.get(), 1u);
  EXPECT_GE(log_lines_with("transaction failed"), 1u);
  writer->exec("PRAGMA query_only = 0");
  std::this_thread::sleep_for(100ms);
  store->submit(results("ro", 1, 1, 4));
  store->flush();
  EXPECT_EQ(last_ack("ro", 1), 4u);
}

TEST_F(StoreTest, RetentionByCountKeepsTheNewest) {
  options_.retention.max_events = 100;
  options_.retention.chunk_rows = 30;
  options_.retention.interval_ms = 5;
  auto store = open_store();
  for (uint32_t i = 0; i < 20; ++i) store->submit(results("r", 1, 1 + i * 15, 15));
  store->flush();
  SqliteQuery query(options_.path);
  for (int i = 0; i < 200 && query.event_count() > 100; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(query.event_count(), 100u);
  EventFilter oldest;
  oldest.limit = 10000;
  const auto page = query.events(oldest);
  ASSERT_EQ(page.events.size(), 100u);
  EXPECT_EQ(page.events.back().seq, 201u) << "retention must delete the oldest first";
  EXPECT_EQ(metrics_.retention_deleted.get(), 200u);
}

TEST_F(StoreTest, ManyBootsFromOneNodeKeepTrackersAndAckRowsBounded) {
  constexpr uint32_t kBoots = 3000;
  const int64_t old = now_ms() - 2 * 24 * 3600 * 1000;
  const auto ack_rows = [&] {
    return sql::Database(options_.path, sql::Database::Mode::kReadOnly).scalar("SELECT count(*) FROM acks");
  };
  {
    auto store = open_store();
    for (uint32_t boot = 1; boot <= kBoots; ++boot) store->submit(results("many", boot, 1, 2, old));
    store->flush();
    EXPECT_GE(metrics_.ack_trackers.get(), 1u) << "the tracker gauge must follow the writer";
    EXPECT_LE(metrics_.ack_trackers.get(), 4u) << "trackers must be bounded per node, not one per boot";
    EXPECT_EQ(last_ack("many", 17), 2u);

    // Boot 17's tracker was evicted long ago: its resend is refused as duplicate and the new seq
    // is acked on top of what the store holds. Within one batch too: boot 18 before and after
    // five other boots (which evict its tracker mid-batch).
    store->submit(results("many", 17, 1, 3, old));
    store->submit(results("many", 18, 1, 2, old));
    for (uint32_t boot = 100; boot < 105; ++boot) store->submit(results("many", boot, 3, 1, old));
    store->submit(results("many", 18, 1, 4, old));
    store->flush();
    EXPECT_EQ(last_ack("many", 17), 3u);
    EXPECT_EQ(last_ack("many", 18), 4u);
    EXPECT_EQ(metrics_.duplicates.get(), 2u + 2 + 2) << "seqs already stored must be refused, not stored again";
    EXPECT_EQ(SqliteQuery(options_.path).event_count(), kBoots * 2u + 1 + 2 + 5);
    EXPECT_LE(metrics_.ack_trackers.get(), 4u);
  }
  EXPECT_EQ(ack_rows(), int64_t{kBoots}) << "one ack row per boot while their events are kept";

  options_.retention.max_age_ms = 24 * 3600 * 1000;
  options_.retention.interval_ms = 5;
  options_.retention.chunk_rows = 500;
  auto store = open_store();
  store->submit(results("many", 9000, 1, 2));  // the boot the node runs now, with fresh results
  store->flush();
  for (int i = 0; i < 1000 && (SqliteQuery(options_.path).event_count() > 2 || ack_rows() > 1); ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(SqliteQuery(options_.path).event_count(), 2u);
  EXPECT_EQ(ack_rows(), 1) << "ack rows must leave the store with their boot's events";
  // The current boot still dedupes and acks across the pruning.
  store->submit(results("many", 9000, 1, 3));
  store->flush();
  EXPECT_EQ(last_ack("many", 9000), 3u);
  EXPECT_EQ(SqliteQuery(options_.path).event_count(), 3u);
}

TEST_F(StoreTest, TelemetryKeepsEveryCounterTheNodeSent) {
  auto store = open_store();
  store->submit(TelemetryItem{"cam-1", 3, now_ms(), "mqtt", 60, 120, 2048, 900, 4, 2, 1, 7});
  store->flush();
  sql::Database db(options_.path, sql::Database::Mode::kReadOnly);
  auto row = db.prepare(
      "SELECT uptime_s, inferences, free_ram_bytes, last_latency_us, dropped_results, pending_results, reconnects, "
      "failed_inferences FROM telemetry JOIN nodes n ON n.id = telemetry.node_ref WHERE n.node_id = 'cam-1'");
  ASSERT_TRUE(row.step()) << "no telemetry row stored";
  const int64_t expected[] = {60, 120, 2048, 900, 4, 2, 1, 7};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(row.int64(i), expected[i]) << "column " << i;
}

TEST_F(StoreTest, CorruptRowsAreReadWithoutFailingThePage) {
  { auto store = open_store(); store->submit(results("c", 1, 1, 2)); store->flush(); }
  {
    sql::Database db(options_.path, sql::Database::Mode::kReadWrite);
    db.exec("UPDATE events SET runners_up = 'junk,4:9,x:y,:,5:' WHERE seq = 1");
    db.exec("UPDATE events SET label = 'not a number', score = -5 WHERE seq = 2");
    db.exec("INSERT INTO events(node_ref, boot_id, seq, at_ms, received_ms, model_id, model_version, label, score, "
            "latency_us, sample_id) VALUES(999, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)");  // node that does not exist
  }
  SqliteQuery query(options_.path);
  const auto page = query.events({});
  ASSERT_EQ(page.events.size(), 2u) << "the orphan row has no node and is left out";
  EXPECT_EQ(page.events[1].runners_up, (std::vector<std::pair<uint32_t, uint32_t>>{{4, 9}}));
  EXPECT_EQ(page.events[0].label, 0u);
  EXPECT_EQ(page.events[0].score, 0u);
}

TEST_F(StoreTest, QueryOnMissingDatabaseThrows) {
  EXPECT_THROW(SqliteQuery(dir_ + "/missing.db"), sql::Error);
}

std::string dir_missing() { return "/nonexistent/tinyedge/gateway.json"; }

TEST(GatewayConfig, ParsesTheExampleAndRejectsMistakes) {
  const auto config = parse_config(R"({
    // comment
    "data_dir": "/tmp/x", "mqtt": {"url": "tcp://h:1", "shared_group": "g"},
    "bearers": ["unix-listen:/tmp/s"], "retention": {"max_age_days": 1, "max_events": 5},
    "api": {"port": 9000, "tokens": [{"token": "t", "role": "viewer"}]}})",
                                   "inline");
  EXPECT_EQ(config.db_path(), "/tmp/x/tinyedge.db");
  EXPECT_EQ(config.mqtt.shared_group, "g");
  EXPECT_EQ(config.store.retention.max_age_ms, 86400000);
  EXPECT_EQ(config.api.tokens.at(0).role, "viewer");
  const auto fails = [](const std::string& json, const std::string& needle) {
    try {
      parse_config(json, "cfg");
      ADD_FAILURE() << "accepted: " << json;
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << error.what();
    }
  };
  fails(R"({"mqtt": {"urll": "x"}})", "unknown key 'urll'");
  fails(R"({"mqtt": {"keepalive_s": "ten"}})", "cfg.mqtt.keepalive_s: wrong type");
  fails(R"({"log_level": "loud"})", "log_level");
  fails(R"({"store": {"synchronous": "OFF"}})", "synchronous");
  fails(R"({"store": {"startup_check": "quick"}})", "cfg.store.startup_check: must be");
  fails(R"({"store": {"backend": "mysql"}})", "cfg.store.backend: must be \"sqlite\" or \"postgres\"");
  fails(R"({"store": {"backend": "postgres"}})", "cfg.store.url: required");
  EXPECT_EQ(parse_config(R"({"store": {"startup_check": "full"}})", "cfg").store.startup_check, StartupCheck::kFull);
  EXPECT_EQ(parse_config(R"({"store": {"wal_max_mb": 2}})", "cfg").store.wal_max_bytes, 2 * 1024 * 1024);
  EXPECT_THROW(parse_config(R"({"store": {"wal_max_mb": 0}})", "cfg"), ConfigError);
  EXPECT_EQ(parse_config("{}", "cfg").store.startup_check, StartupCheck::kBounded);
  fails(R"({"api": {"tokens": [{"token": "t", "role": "root"}]}})", "role");
  fails(R"({"retention": {"max_events": -1}})", "max_events");
  fails("{not json", "not valid JSON");
  fails(R"({"drift": {"window": -5}})", "cfg.drift.window: must be > 0");
  fails(R"({"drift": {"baseline": 0}})", "cfg.drift.baseline: must be > 0");
  fails(R"({"drift": {"max_label_jsd": 2}})", "cfg.drift.max_label_jsd: must be 0..1");
  fails(R"({"drift": {"quantile": 0.3}})", "cfg.drift.quantile");
  fails(R"({"drift": {"windw": 10}})", "unknown key 'windw'");
  EXPECT_EQ(parse_config(R"({"drift": {"window": 300, "confirm": 3}})", "cfg").drift.window, 300u);
  // The shipped, commented example must always load.
  const auto example = load_config(std::string(TINYEDGE_SOURCE_DIR) + "/gateway/gateway.example.json");
  EXPECT_EQ(example.mqtt.client_id, "tinyedge-gateway");
  EXPECT_EQ(example.store.retention.max_age_ms, 30LL * 86400 * 1000);
  EXPECT_EQ(example.node_groups.at("node-1").size(), 2u);
  for (const auto& b : example.bearers) {
    std::string why;
    EXPECT_TRUE(parse_endpoint(b, why)) << why;
  }
  // So must deploy/'s config for gateways sharing one PostgreSQL (the README's two-gateway setup).
  const auto shared = load_config(std::string(TINYEDGE_SOURCE_DIR) + "/deploy/postgres/gateway-a.json");
  EXPECT_EQ(shared.store.backend, "postgres");
  EXPECT_EQ(shared.mqtt.shared_group, "site");
  EXPECT_EQ(shared.mqtt.session_expiry_s, 0);
  EXPECT_EQ(shared.mqtt.client_id, "tinyedge-gateway-a");
  EXPECT_THROW(load_config(dir_missing()), ConfigError);
  std::string error;
  EXPECT_FALSE(parse_endpoint("tcp-listen:127.0.0.1", error));
  EXPECT_NE(error.find("HOST:PORT"), std::string::npos);
  EXPECT_FALSE(parse_endpoint("carrier-pigeon:x", error));
  EXPECT_FALSE(parse_endpoint("serial:/dev/ttyS0@fast", error));
  EXPECT_TRUE(parse_endpoint("serial:/dev/ttyS0@9600", error));
  EXPECT_TRUE(parse_endpoint("tcp-connect:127.0.0.1:5555", error));
}

}  // namespace
}  // namespace tinyedge::gateway
