// Store::open on real gateway files: a valid store with groups and many events opens (SQLite
// 3.40's quick_check used to refuse every store with groups), and damage is refused with an
// error naming the file and the table, at the depth the startup check promises: the control
// tables and the newest log pages always, the whole file on StartupCheck::kFull; damage deeper in
// the event log surfaces as SQLITE_CORRUPT on the query that reads it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gateway/core/log.h"
#include "gateway/core/metrics.h"
#include "gateway/store/sqlite/sqlite_query.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "tests/dashboard/api_fixture.h"
#include "tests/dashboard/fleet_db.h"

namespace tinyedge::dashboard {
namespace {

using namespace testing;
using gateway::StartupCheck;

constexpr size_t kEvents = 100'000;

int64_t scalar(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db) << ": " << sql;
  const int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

std::string text(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// Overwrites one whole page with a byte pattern that is no valid b-tree page type.
void smash_page(const std::string& path, int64_t page) {
  ASSERT_GT(page, 0);
  const int64_t size = scalar(path, "PRAGMA page_size");
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f) << path;
  f.seekp((page - 1) * size);
  const std::string junk(static_cast<size_t>(size), '\xa5');
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  ASSERT_TRUE(f) << "could not overwrite page " << page;
}

class StoreOpenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = temp_db_path("open-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    FleetSpec spec;
    spec.events = kEvents;
    build_fleet_db(path_, spec);
    log_.set_level(gateway::LogLevel::kError);
  }
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }

  // Opens a Store; returns the error it threw, or nullopt.
  std::optional<gateway::sql::Error> open(StartupCheck depth = StartupCheck::kBounded) {
    gateway::StoreOptions options;
    options.path = path_;
    options.startup_check = depth;
    try {
      gateway::SqliteStore store(options, metrics_, log_);
      return std::nullopt;
    } catch (const gateway::sql::Error& e) {
      return e;
    }
  }

  std::string path_;
  gateway::Metrics metrics_;
  gateway::Logger log_;
};

TEST_F(StoreOpenTest, ValidStoreWithGroupsAndManyEventsOpens) {
  ASSERT_GT(scalar(path_, "SELECT count(*) FROM node_groups"), 0) << "the fixture must have groups";
  ASSERT_EQ(text(path_, "PRAGMA integrity_check"), "ok") << "the fixture itself must be sound";
  const auto t0 = std::chrono::steady_clock::now();
  const auto error = open();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(error) << "a valid store was refused: " << error->what();
  std::printf("Store open (bounded check) on %zu events: %.1f ms\n", kEvents, ms);
  const auto full = open(StartupCheck::kFull);
  EXPECT_FALSE(full) << "a valid store was refused by the full check: " << full->what();
  // A store that went through the writer (groups set by the API, events acked) reopens too.
  {
    gateway::StoreOptions options;
    options.path = path_;
    gateway::SqliteStore store(options, metrics_, log_);
    store.start([](std::vector<gateway::AckNotice>) {});
    ASSERT_TRUE(store.submit(gateway::GroupsItem{node_name(3), {"lab", "roof"}}));
    store.flush();
  }
  const auto again = open();
  EXPECT_FALSE(again) << "reopening after a groups update failed: " << again->what();
}

TEST_F(StoreOpenTest, DamagedControlTableIsRefusedNamingIt) {
  smash_page(path_, scalar(path_, "SELECT rootpage FROM sqlite_schema WHERE name = 'nodes'"));
  const auto error = open();
  ASSERT_TRUE(error) << "a store whose nodes table is smashed was opened";
  EXPECT_EQ(error->primary(), SQLITE_CORRUPT) << error->what();
  EXPECT_NE(std::string(error->what()).find("table nodes"), std::string::npos) << error->what();
  EXPECT_NE(std::string(error->what()).find(path_), std::string::npos) << error->what();
}

TEST_F(StoreOpenTest, DamagedGroupsIndexIsRefused) {
  // node_groups is WITHOUT ROWID: its primary key is its b-tree.
  smash_page(path_, scalar(path_, "SELECT rootpage FROM sqlite_schema WHERE name = 'node_groups'"));
  const auto error = open();
  ASSERT_TRUE(error) << "a store whose node_groups table is smashed was opened";
  EXPECT_EQ(error->primary(), SQLITE_CORRUPT) << error->what();
  EXPECT_NE(std::string(error->what()).find("node_groups"), std::string::npos) << error->what();
}

TEST_F(StoreOpenTest, DamagedNewestEventsAreRefused) {
  // The rightmost leaf holds the newest events: where the last commits before a crash landed.
  const int64_t page = scalar(path_, "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' "
                                     "ORDER BY path DESC LIMIT 1");
  smash_page(path_, page);
  const auto error = open();
  ASSERT_TRUE(error) << "a store whose newest event page (" << page << ") is smashed was opened";
  EXPECT_EQ(error->primary(), SQLITE_CORRUPT) << error->what();
  EXPECT_NE(std::string(error->what()).find("newest rows of events"), std::string::npos) << error->what();
}

TEST_F(StoreOpenTest, DamagedOldEventsOpenButTheFullCheckAndTheQueryThatReadsThemSayCorrupt) {
  const int64_t leaves = scalar(path_, "SELECT count(*) FROM dbstat WHERE name = 'events' AND pagetype = 'leaf'");
  ASSERT_GT(leaves, 10);
  const int64_t page = scalar(path_, "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' "
                                     "ORDER BY path LIMIT 1 OFFSET " + std::to_string(leaves / 2));
  smash_page(path_, page);
  // The bounded check does not read the middle of the log: the gateway starts.
  const auto bounded = open();
  EXPECT_FALSE(bounded) << "bounded check: " << bounded->what();
  // Reading the damaged range fails loudly with SQLite's code, never with wrong rows.
  gateway::SqliteQuery query(path_);
  gateway::EventFilter filter;
  filter.limit = 10000;
  int corrupt = 0;
  size_t rows = 0;
  for (int i = 0; i < 100 && !corrupt; ++i) {
    try {
      const auto page_rows = query.events(filter);
      rows += page_rows.events.size();
      if (!page_rows.next_cursor) break;
      filter.before_id = page_rows.next_cursor;
    } catch (const gateway::sql::Error& e) {
      EXPECT_EQ(e.primary(), SQLITE_CORRUPT) << e.what();
      corrupt = 1;
    }
  }
  EXPECT_EQ(corrupt, 1) << "paging through every event never hit the smashed page " << page << " (" << rows
                        << " rows read)";
  // The full check finds it before serving anything.
  const auto full = open(StartupCheck::kFull);
  ASSERT_TRUE(full) << "the full check opened a store with a smashed event page";
  EXPECT_EQ(full->primary(), SQLITE_CORRUPT) << full->what();
  EXPECT_NE(std::string(full->what()).find("integrity_check"), std::string::npos) << full->what();
}

TEST_F(StoreOpenTest, DamagedSchemaPageIsRefused) {
  // Page 1 past the 100-byte header is the root of sqlite_schema.
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    const std::string junk(4000, '\xa5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  const auto error = open();
  ASSERT_TRUE(error) << "a store with a smashed schema page was opened";
  EXPECT_TRUE(error->primary() == SQLITE_CORRUPT || error->primary() == SQLITE_NOTADB) << error->what();
}

TEST_F(StoreOpenTest, MissingTableIsRefusedNamingIt) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DROP TABLE acks", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  const auto error = open();
  ASSERT_TRUE(error) << "a store without its acks table was opened";
  EXPECT_EQ(error->primary(), SQLITE_SCHEMA) << error->what();
  EXPECT_NE(std::string(error->what()).find("table acks is missing"), std::string::npos) << error->what();
}

}  // namespace
}  // namespace tinyedge::dashboard
