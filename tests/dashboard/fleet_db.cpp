#include "tests/dashboard/fleet_db.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateway/core/log.h"
#include "gateway/core/metrics.h"
#include "gateway/store/sqlite/database.h"
#include "gateway/store/sqlite/migrations.h"
#include "gateway/store/sqlite/sqlite_store.h"

namespace tinyedge::dashboard::testing {
namespace {

// SQLite migration 6 (label_minutes) is the first that adds a rollup trigger on events.
constexpr int kFirstRollupVersion = 6;

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
}

void exec(sqlite3* db, const char* sql) { check(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), db, sql); }

}  // namespace

std::string node_name(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "node-%03zu", i);
  return buf;
}

int64_t fleet_end_ms(const FleetSpec& spec) {
  return spec.end_ms ? spec.end_ms
                     : std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
}

FleetNode fleet_node(const FleetSpec& spec, int64_t end_ms, size_t i) {
  return {static_cast<int64_t>(i + 1),
          node_name(i),
          1 + static_cast<uint32_t>(i % 2),
          end_ms - spec.span_ms,
          end_ms - static_cast<int64_t>(i) * 1000,
          i % 7 != 6};
}

void for_each_fleet_event(const FleetSpec& spec, int64_t end_ms, const std::function<void(const FleetEvent&)>& each) {
  std::mt19937_64 rng(spec.seed);
  std::vector<uint32_t> seq(spec.nodes, 0);
  FleetEvent e;
  for (size_t i = 0; i < spec.events; ++i) {
    const size_t n = rng() % spec.nodes;
    // Time advances with the id, with jitter so at_ms order is not exactly id order.
    e.at_ms = end_ms - spec.span_ms +
              static_cast<int64_t>(static_cast<double>(i) / static_cast<double>(spec.events) *
                                   static_cast<double>(spec.span_ms)) -
              static_cast<int64_t>(rng() % 500);
    e.label = static_cast<uint32_t>(rng() % spec.labels);
    e.score = static_cast<uint32_t>(rng() % 256);
    e.runners_up = std::to_string((e.label + 1) % spec.labels) + ":" + std::to_string(e.score / 3);
    e.node_ref = static_cast<int64_t>(n + 1);
    e.seq = ++seq[n];
    e.model_version = 1 + static_cast<uint32_t>(n % 2);
    e.latency_us = 800 + static_cast<uint32_t>(rng() % 4000);
    e.sample_id = static_cast<uint32_t>(i % 10000);
    each(e);
  }
}

int64_t build_fleet_db(const std::string& path, const FleetSpec& spec) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  {
    // The gateway's migrations create the schema exactly as production does, but only up to the
    // rollups: their triggers would add an upsert per event per rollup to the load (most of its
    // time at 10M events). The store opened after the load applies the rest, whose migrations fill
    // each rollup from the events in one pass.
    gateway::sql::Database db(path, gateway::sql::Database::Mode::kReadWrite);
    const auto all = gateway::migrations();
    const auto before = std::find_if(all.begin(), all.end(),
                                     [](const gateway::Migration& m) { return m.version >= kFirstRollupVersion; });
    gateway::migrate(db, all.first(static_cast<size_t>(before - all.begin())));
  }
  const int64_t end_ms = fleet_end_ms(spec);
  sqlite3* db = nullptr;
  check(sqlite3_open(path.c_str(), &db), db, "open");
  // Fixture only: no journal, no fsync, one big cache. A crash here just means regenerate.
  exec(db, "PRAGMA journal_mode = OFF");
  exec(db, "PRAGMA synchronous = OFF");
  exec(db, "PRAGMA locking_mode = EXCLUSIVE");
  exec(db, "PRAGMA cache_size = -1048576");
  exec(db, "PRAGMA temp_store = MEMORY");
  // Secondary indexes are built once after loading (a sort) instead of row by row (random writes).
  std::vector<std::string> indexes;
  {
    sqlite3_stmt* st = nullptr;
    check(sqlite3_prepare_v2(db, "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' "
                                 "AND sql IS NOT NULL", -1, &st, nullptr), db, "list indexes");
    std::vector<std::string> names;
    while (sqlite3_step(st) == SQLITE_ROW) {
      names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
      indexes.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    }
    sqlite3_finalize(st);
    for (const auto& name : names) exec(db, ("DROP INDEX " + name).c_str());
  }
  exec(db, "BEGIN");
  sqlite3_stmt* node = nullptr;
  check(sqlite3_prepare_v2(db,
                           "INSERT INTO nodes (id, node_id, hardware, firmware_version, model_id, model_version, "
                           "model_name, boot_id, bearer, first_seen_ms, last_seen_ms, online, state_changed_ms) "
                           "VALUES (?1, ?2, 'host-sim', 1, 7, ?3, 'fashion', 1, 'mqtt', ?4, ?5, ?6, ?5)",
                           -1, &node, nullptr),
        db, "prepare nodes");
  sqlite3_stmt* group = nullptr;
  check(sqlite3_prepare_v2(db, "INSERT INTO node_groups (node_ref, group_name) VALUES (?1, ?2)", -1, &group, nullptr),
        db, "prepare groups");
  for (size_t i = 0; i < spec.nodes; ++i) {
    const FleetNode n = fleet_node(spec, end_ms, i);
    sqlite3_bind_int64(node, 1, n.ref);
    sqlite3_bind_text(node, 2, n.name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(node, 3, n.model_version);
    sqlite3_bind_int64(node, 4, n.first_seen_ms);
    sqlite3_bind_int64(node, 5, n.last_seen_ms);
    sqlite3_bind_int64(node, 6, n.online);
    check(sqlite3_step(node), db, "insert node");
    sqlite3_reset(node);
    for (const std::string& g : {"g" + std::to_string(i % spec.groups), std::string("all")}) {
      sqlite3_bind_int64(group, 1, n.ref);
      sqlite3_bind_text(group, 2, g.c_str(), -1, SQLITE_TRANSIENT);
      check(sqlite3_step(group), db, "insert group");
      sqlite3_reset(group);
    }
  }
  sqlite3_finalize(node);
  sqlite3_finalize(group);

  sqlite3_stmt* ev = nullptr;
  check(sqlite3_prepare_v2(db,
                           "INSERT INTO events (node_ref, boot_id, seq, at_ms, received_ms, model_id, model_version, "
                           "label, score, runners_up, latency_us, sample_id) "
                           "VALUES (?1, 1, ?2, ?3, ?4, 7, ?5, ?6, ?7, ?8, ?9, ?10)",
                           -1, &ev, nullptr),
        db, "prepare events");
  size_t written = 0;
  for_each_fleet_event(spec, end_ms, [&](const FleetEvent& e) {
    sqlite3_bind_int64(ev, 1, e.node_ref);
    sqlite3_bind_int64(ev, 2, e.seq);
    sqlite3_bind_int64(ev, 3, e.at_ms);
    sqlite3_bind_int64(ev, 4, e.at_ms + 20);
    sqlite3_bind_int64(ev, 5, e.model_version);
    sqlite3_bind_int64(ev, 6, e.label);
    sqlite3_bind_int64(ev, 7, e.score);
    sqlite3_bind_text(ev, 8, e.runners_up.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ev, 9, e.latency_us);
    sqlite3_bind_int64(ev, 10, e.sample_id);
    check(sqlite3_step(ev), db, "insert event");
    sqlite3_reset(ev);
    if (++written % 1'000'000 == 0) {
      exec(db, "COMMIT");
      exec(db, "BEGIN");
    }
  });
  sqlite3_finalize(ev);
  exec(db, "COMMIT");
  for (const auto& sql : indexes) exec(db, sql.c_str());
  // No ANALYZE: a gateway never runs it, so plans here must be the plans it gets.
  exec(db, "PRAGMA journal_mode = WAL");
  sqlite3_close(db);
  {
    gateway::Metrics metrics;
    gateway::Logger log;
    log.set_level(gateway::LogLevel::kWarn);
    gateway::StoreOptions options;
    options.path = path;
    gateway::SqliteStore store(options, metrics, log);  // the remaining migrations, rollups filled
  }
  return end_ms;
}

int64_t copy_of_cached_fleet_db(const std::string& path, const FleetSpec& spec, const std::string& cache_dir) {
  namespace fs = std::filesystem;
  if (spec.end_ms == 0) return build_fleet_db(path, spec);
  fs::create_directories(cache_dir);
  char name[160];
  std::snprintf(name, sizeof name, "fleet-%zu-%zu-%zu-%zu-%lld-%lld-%llu", spec.nodes, spec.groups, spec.events,
                spec.labels, static_cast<long long>(spec.end_ms), static_cast<long long>(spec.span_ms),
                static_cast<unsigned long long>(spec.seed));
  const fs::path cached = fs::path(cache_dir) / (std::string(name) + ".db");
  const fs::path stamp_file = fs::path(cache_dir) / (std::string(name) + ".stamp");
  // The generator is linked into this executable: a rebuilt one may write other rows, so the cached
  // file is only used by the executable that wrote it.
  const fs::path self = fs::read_symlink("/proc/self/exe");
  const std::string stamp = self.string() + " " + std::to_string(fs::file_size(self)) + " " +
                            std::to_string(fs::last_write_time(self).time_since_epoch().count());

  const std::string lock_path = cached.string() + ".lock";
  const int lock = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
    if (lock >= 0) ::close(lock);
    throw std::runtime_error("cannot lock " + lock_path);
  }
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }  // closing releases the flock
  } unlock{lock};
  std::string have;
  std::getline(std::ifstream(stamp_file), have);
  if (have != stamp || !fs::exists(cached)) {
    fs::remove(stamp_file);
    const std::string tmp = cached.string() + ".tmp";
    build_fleet_db(tmp, spec);
    fs::rename(tmp, cached);
    std::ofstream(stamp_file) << stamp << "\n";
  }
  fs::remove(path);
  fs::remove(path + "-wal");
  fs::remove(path + "-shm");
  fs::copy_file(cached, path);
  return spec.end_ms;
}

int64_t append_events(const std::string& path, const std::string& node, size_t count, int64_t at_ms) {
  sqlite3* db = nullptr;
  check(sqlite3_open(path.c_str(), &db), db, "open");
  sqlite3_busy_timeout(db, 5000);
  exec(db, "BEGIN IMMEDIATE");
  sqlite3_stmt* st = nullptr;
  check(sqlite3_prepare_v2(db,
                           "INSERT INTO events (node_ref, boot_id, seq, at_ms, received_ms, model_id, model_version, "
                           "label, score, runners_up, latency_us, sample_id) "
                           "SELECT id, 2, ?2, ?3, ?3, 7, 1, 3, 200, NULL, 1000, 0 FROM nodes WHERE node_id = ?1",
                           -1, &st, nullptr),
        db, "prepare append");
  for (size_t i = 0; i < count; ++i) {
    sqlite3_bind_text(st, 1, node.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, static_cast<int64_t>(i + 1) + (at_ms % 100000) * 1000);
    sqlite3_bind_int64(st, 3, at_ms + static_cast<int64_t>(i));
    check(sqlite3_step(st), db, "append event");
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  exec(db, "COMMIT");
  const int64_t last = sqlite3_last_insert_rowid(db);
  sqlite3_close(db);
  return last;
}

}  // namespace tinyedge::dashboard::testing
