// bench_dashboard: latency of the dashboard API's hot queries over a real gateway database, and
// keep-alive throughput with 64 concurrent clients (wrk if installed, else an in-process load
// generator). Not a test: it prints figures.
//
//   bench_dashboard [--events 1000000,10000000] [--backend sqlite,postgres] [--nodes 50]
//                   [--dir <build>/bench-fixtures] [--pg-dir DIR] [--requests 2000] [--seconds 10]
//                   [--connections 64] [--plans 1|stats|0]
//
// SQLite fixtures are cached in --dir by node and event count (a second run skips generation);
// the gateway's Store opens each one first, as the daemon would (so new migrations apply, and the
// open time is reported). PostgreSQL: a server of its own in a temporary directory (removed at the
// end), filled by COPY (fleet_pg.h) on each run; with --pg-dir, a server whose data directory is
// DIR, kept with its fleets (10M events take ~10 minutes to fill) for later runs. --plans 1 also
// prints direct Query latency (and, on SQLite, EXPLAIN QUERY PLAN) for every /events filter
// combination, the /stats/labels shapes and the latency percentiles of the model page; --plans
// stats only the last two.
#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "deploy/fleet/api_client.h"
#include "gateway/core/log.h"
#include "gateway/core/metrics.h"
#include "gateway/store/backend.h"
#include "gateway/store/sqlite/sqlite_query.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "tests/dashboard/api_fixture.h"
#include "tests/dashboard/fleet_db.h"
#include "tests/dashboard/fleet_pg.h"
#include "tests/gateway/support/postgres_server.h"

#ifndef TINYEDGE_BENCH_FIXTURES
#define TINYEDGE_BENCH_FIXTURES "/tmp/tinyedge-bench"
#endif

using namespace tinyedge::dashboard;
using namespace tinyedge::dashboard::testing;
using Clock = std::chrono::steady_clock;
namespace gw = tinyedge::gateway;

namespace {

int64_t scalar(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  sqlite3_stmt* st = nullptr;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

// One number from a PostgreSQL database, -1 if it cannot be read (e.g. no such database).
int64_t pg_scalar(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  int64_t n = -1;
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
      n = std::stoll(PQgetvalue(r, 0, 0));
    PQclear(r);
  }
  PQfinish(c);
  return n;
}

bool pg_exec(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  bool ok = false;
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, sql.c_str());
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) std::fprintf(stderr, "bench: %s: %s", sql.c_str(), PQerrorMessage(c));
    PQclear(r);
  }
  PQfinish(c);
  return ok;
}

std::string query_plan(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::string plan;
  if (sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &st, nullptr) != SQLITE_OK) {
    plan = std::string("(cannot explain: ") + sqlite3_errmsg(db) + ")";
  }
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    if (!plan.empty()) plan += " / ";
    plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return plan;
}

struct Latency {
  double p50_ms = 0, p99_ms = 0;
  size_t n = 0;
};

Latency summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))]; };
  return {at(0.50), at(0.99), ms.size()};
}

template <typename F>
double time_ms(F&& f) {
  const auto t0 = Clock::now();
  f();
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

Latency measure_http(tinyedge::fleet::ApiClient& c, const std::vector<std::string>& targets, size_t requests) {
  std::vector<double> ms;
  ms.reserve(requests);
  for (size_t i = 0; i < requests; ++i) {
    const std::string& target = targets[i % targets.size()];
    tinyedge::fleet::HttpResponse r;
    ms.push_back(time_ms([&] { r = c.get(target); }));
    if (r.status != 200) {
      std::fprintf(stderr, "bench: %s answered %d: %s\n", target.c_str(), r.status, r.body.c_str());
      std::exit(1);
    }
  }
  return summarise(std::move(ms));
}

// Direct Query latency: more runs for fast shapes, a few for slow ones.
template <typename F>
Latency measure_direct(F&& run) {
  std::vector<double> ms{time_ms(run)};
  const size_t runs = ms[0] > 200 ? 3 : ms[0] > 20 ? 10 : 50;
  while (ms.size() < runs) ms.push_back(time_ms(run));
  return summarise(std::move(ms));
}

// 64 keep-alive clients in threads, each looping for `seconds`.
double own_load(const std::string& url, const std::string& target, int connections, int seconds) {
  std::atomic<uint64_t> done{0}, failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back([&] {
      tinyedge::fleet::ApiClient c(url, kViewerToken);
      while (!stop) {
        if (c.get(target).status == 200) done++;
        else failed++;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  if (failed) std::printf("  (%llu failed requests)\n", static_cast<unsigned long long>(failed.load()));
  return static_cast<double>(done) / seconds;
}

std::string run(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    pclose(p);
  }
  return out;
}

// Every combination of the /events filters, with values that select a realistic slice: one node
// of 50, one group of 5, one label of 10, score >= 250 (2%), a one-hour window 12 h back.
void print_event_plans(const std::string& path, gw::Query& query, int64_t end_ms) {
  // path: the SQLite file whose plans are shown; empty on PostgreSQL.
  const auto plan = [&](const std::string& sql) { return path.empty() ? std::string("-") : query_plan(path, sql); };
  std::printf("\n/events filter combinations (limit 100, newest first): direct Query latency and plan\n\n");
  std::printf("| filters | p50 ms | p99 ms | plan |\n|---|---|---|---|\n");
  for (unsigned mask = 0; mask < 64; ++mask) {
    gw::EventFilter f;
    std::string name;
    auto add = [&](const char* n) { name += name.empty() ? n : std::string("+") + n; };
    if (mask & 1) f.node_id = node_name(7), add("node");
    if (mask & 2) f.group = "g3", add("group");
    if (mask & 4) f.label = 4, add("label");
    if (mask & 8) f.min_score = 250, add("min_score");
    if (mask & 16) f.from_ms = end_ms - 12 * 3'600'000, add("since");
    if (mask & 32) f.to_ms = end_ms - 11 * 3'600'000, add("until");
    if (name.empty()) name = "(none)";
    f.limit = 100;
    const Latency l = measure_direct([&] { query.events(f); });
    std::printf("| %s | %.2f | %.2f | %s |\n", name.c_str(), l.p50_ms, l.p99_ms, plan(gw::events_sql(f)).c_str());
  }
  // A deep page: the cursor halfway down the log.
  gw::EventFilter deep;
  deep.node_id = node_name(7);
  deep.before_id = query.last_event_id() / 2;
  const Latency l = measure_direct([&] { query.events(deep); });
  std::printf("| node+cursor (halfway) | %.2f | %.2f | %s |\n", l.p50_ms, l.p99_ms, plan(gw::events_sql(deep)).c_str());
}

void print_stats_plans(const std::string& path, gw::Query& query, int64_t end_ms) {
  const auto plan = [&](const std::string& sql) { return path.empty() ? std::string("-") : query_plan(path, sql); };
  std::printf("\n/stats/labels shapes: direct Query latency and plan\n\n");
  std::printf("| window | filter | p50 ms | p99 ms | plan |\n|---|---|---|---|---|\n");
  for (const int64_t hours : {24, 1}) {
    for (int which = 0; which < 3; ++which) {
      gw::LabelStatsFilter f;
      f.to_ms = end_ms + 1;
      f.from_ms = f.to_ms - hours * 3'600'000;
      f.bucket_ms = hours == 24 ? 1'800'000 : 60'000;
      if (which == 1) f.node_id = node_name(7);
      if (which == 2) f.group = "g3";
      const Latency l = measure_direct([&] { query.label_stats(f); });
      std::printf("| %lld h | %s | %.1f | %.1f | %s |\n", static_cast<long long>(hours),
                  which == 0   ? "-"
                  : which == 1 ? "node"
                               : "group",
                  l.p50_ms, l.p99_ms, plan(gw::label_stats_sql(f)).c_str());
    }
  }
}

// The model page's 24 h latency (one model version) and /stats/latency's (every model), from
// the latency rollup plus the window's two partial minutes of events.
void print_latency(gw::Query& query, int64_t end_ms) {
  std::printf(
      "\nlatency percentiles over 24 h: direct Query latency\n\n| shape | p50 ms | p99 ms | events counted "
      "|\n|---|---|---|---|\n");
  for (const bool one : {true, false}) {
    gw::LatencyFilter f{end_ms + 1 - 86'400'000 + 17'000, end_ms + 1, std::nullopt};
    if (one) f.model = std::pair{7u, 2u};
    uint64_t n = 0;
    const Latency l = measure_direct([&] {
      n = 0;
      for (const auto& s : query.latency_percentiles(f)) n += s.count;
    });
    std::printf("| %s | %.1f | %.1f | %llu |\n", one ? "model 7 v2 (model page)" : "every model (/stats/latency)",
                l.p50_ms, l.p99_ms, static_cast<unsigned long long>(n));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes = {1'000'000, 10'000'000};
  std::vector<std::string> backends = {"sqlite"};
  size_t nodes = 50;
  std::string dir = TINYEDGE_BENCH_FIXTURES;
  std::string pg_dir;  // empty: a PostgreSQL server in a temporary directory, filled on each run
  size_t requests = 2000;
  int seconds = 10, connections = 64;
  std::string plans = "1";  // "1": every table; "stats": the /stats tables only; "0": none
  const auto list = [](const std::string& v) {
    std::vector<std::string> out;
    std::stringstream ss(v);
    for (std::string part; std::getline(ss, part, ',');) out.push_back(part);
    return out;
  };
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--events") {
      sizes.clear();
      for (const auto& part : list(v)) sizes.push_back(std::stoull(part));
    } else if (k == "--backend") {
      backends = list(v);
      for (const auto& b : backends) {
        if (b != "sqlite" && b != "postgres") {
          std::fprintf(stderr, "bench_dashboard: unknown backend %s (sqlite, postgres)\n", b.c_str());
          return 2;
        }
      }
    } else if (k == "--nodes")
      nodes = std::stoull(v);
    else if (k == "--dir")
      dir = v;
    else if (k == "--pg-dir")
      pg_dir = v;
    else if (k == "--requests") requests = std::stoull(v);
    else if (k == "--seconds") seconds = std::stoi(v);
    else if (k == "--connections") connections = std::stoi(v);
    else if (k == "--plans") plans = v;
    else {
      std::fprintf(stderr, "bench_dashboard: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  std::filesystem::create_directories(dir);
  const bool have_wrk = std::system("command -v wrk >/dev/null 2>&1") == 0;
  std::vector<std::string> summary;
  std::unique_ptr<tinyedge::test::PostgresServer> postgres;
  int database = 0;
  for (const auto& backend : backends) {
    for (size_t events : sizes) {
      FleetSpec spec;
      spec.events = events;
      spec.nodes = nodes;
      gw::StoreOptions options;
      options.backend = backend;
      std::string path;  // SQLite only
      int64_t end_ms = 0;
      if (backend == "sqlite") {
        path = dir + "/fleet-" + (nodes == 50 ? "" : std::to_string(nodes) + "-") + std::to_string(events) + ".db";
        options.path = path;
        if (scalar(path, "SELECT max(id) FROM events") != static_cast<int64_t>(events) ||
            scalar(path, "SELECT count(*) FROM nodes") != static_cast<int64_t>(nodes)) {
          std::fprintf(stderr, "generating %zu events into %s ...\n", events, path.c_str());
          const double ms = time_ms([&] { build_fleet_db(path, spec); });
          std::printf("fixture: %zu nodes, %zu events generated in %.1f s (%.0f MB)\n", nodes, events, ms / 1000,
                      static_cast<double>(std::filesystem::file_size(path)) / 1e6);
        }
        // The daemon's way in: migrations, startup check.
        gw::Metrics metrics;
        gw::Logger log;
        log.set_level(gw::LogLevel::kWarn);
        const double ms = time_ms([&] { gw::SqliteStore store(options, metrics, log); });
        std::printf(
            "\n## SQLite, %zu events (schema version %lld)\n\nStore open (migrations + bounded startup check): %.1f "
            "ms\n",
            events, static_cast<long long>(scalar(path, "PRAGMA user_version")), ms);
        end_ms = scalar(path, "SELECT max(at_ms) FROM events");
      } else {
        if (!postgres) {
          postgres = pg_dir.empty() ? std::make_unique<tinyedge::test::PostgresServer>(true)
                                    : std::make_unique<tinyedge::test::PostgresServer>(true, pg_dir);
        }
        // A kept server (--pg-dir) keeps one database per fleet size, reused while it holds that fleet.
        const std::string name = pg_dir.empty() ? "bench_" + std::to_string(database++)
                                                : "fleet_" + std::to_string(nodes) + "_" + std::to_string(events);
        const std::string url = postgres->url(name);
        std::printf("\n## PostgreSQL, %zu events\n\n", events);
        if (!pg_dir.empty() && pg_scalar(url, "SELECT max(id) FROM events") == static_cast<int64_t>(events) &&
            pg_scalar(url, "SELECT count(*) FROM nodes") == static_cast<int64_t>(nodes)) {
          options.url = url;
          std::printf("fixture: %zu nodes, %zu events kept in %s from an earlier run\n", nodes, events, pg_dir.c_str());
        } else {
          if (!pg_dir.empty()) pg_exec(postgres->url("postgres"), "DROP DATABASE IF EXISTS \"" + name + "\"");
          options.url = postgres->create_database(name);
          std::fprintf(stderr, "generating %zu events into PostgreSQL (COPY) ...\n", events);
          const double ms = time_ms([&] { build_fleet_pg(options.url, spec); });
          std::printf("fixture: %zu nodes, %zu events generated by COPY in %.1f s\n", nodes, events, ms / 1000);
        }
        {
          // The daemon's way in: migrations added since the fixture was made apply here.
          gw::Metrics metrics;
          gw::Logger log;
          log.set_level(gw::LogLevel::kWarn);
          const double ms = time_ms([&] { gw::open_store(options, metrics, log); });
          std::printf("Store open (migrations): %.1f ms\n", ms);
        }
        end_ms = 0;
        gw::EventFilter newest;
        newest.limit = 1;
        for (const auto& e : gw::open_query(options)->events(newest).events) end_ms = e.at_ms;
        // Not the newest at_ms (ids are jittered by up to 0.5 s): windows end a second later.
        end_ms += 1000;
      }
      if (plans == "1" || plans == "stats") {
        auto query = gw::open_query(options);
        if (plans == "1") print_event_plans(path, *query, end_ms);
        print_stats_plans(path, *query, end_ms);
        print_latency(*query, end_ms);
      }
      ServerLimits limits;
      limits.rate_per_client = 0;
      ApiServer server([options] { return gw::open_query(options); }, limits);
      tinyedge::fleet::ApiClient c(server.url(), kViewerToken);
      std::vector<std::string> node_targets;
      for (int n = 0; n < 50; ++n) node_targets.push_back("/api/v1/events?limit=100&node=" + node_name(n * nodes / 50));
      const std::vector<std::string> stats_targets = {"/api/v1/stats/labels?window=24h&until=" +
                                                      std::to_string(end_ms + 1)};
      const std::vector<std::string> latency_targets = {"/api/v1/stats/latency?window=24h&until=" +
                                                        std::to_string(end_ms + 1)};
      measure_http(c, node_targets, 50);  // warm the page cache and statement caches
      const Latency node = measure_http(c, node_targets, requests);
      const Latency stats = measure_http(c, stats_targets, std::max<size_t>(100, requests / 20));
      const Latency latency = measure_http(c, latency_targets, std::max<size_t>(100, requests / 20));
      const std::string target = "/api/v1/events?limit=100&node=" + node_name(7);
      double rps = 0;
      if (have_wrk) {
        const std::string out =
            run("wrk -t2 -c" + std::to_string(connections) + " -d" + std::to_string(seconds) +
                "s -H 'Authorization: Bearer " + kViewerToken + "' '" + server.url() + target + "' 2>&1");
        const size_t pos = out.find("Requests/sec:");
        if (pos != std::string::npos) rps = std::stod(out.substr(pos + 13));
        if (out.find("Non-2xx") != std::string::npos)
          std::fprintf(stderr, "wrk saw non-2xx answers:\n%s\n", out.c_str());
      } else {
        rps = own_load(server.url(), target, connections, seconds);
      }
      char line[320];
      std::snprintf(line, sizeof line, "| %s | %zu | %zu | %.2f / %.2f | %.1f / %.1f | %.1f / %.1f | %.0f |",
                    backend.c_str(), nodes, events, node.p50_ms, node.p99_ms, stats.p50_ms, stats.p99_ms,
                    latency.p50_ms, latency.p99_ms, rps);
      summary.push_back(line);
      std::printf("\nHTTP: %s\n", line);
      std::fflush(stdout);
    }
  }
  std::printf("\n## Summary (HTTP, client and server on this machine)\n\n");
  std::printf(
      "| backend | nodes | events | GET /events node last 100: p50 / p99 ms | GET /stats/labels 24h: p50 / p99 ms | "
      "GET /stats/latency 24h: p50 / p99 ms | req/s, %d keep-alive clients (%s) |\n",
      connections, have_wrk ? "wrk -t2" : "in-process");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const auto& line : summary) std::printf("%s\n", line.c_str());
  std::printf(
      "\nmachine: %u cores; server: %u handler threads, one io thread; %zu requests per /events figure, %zu per "
      "/stats\n",
      std::thread::hardware_concurrency(), ServerLimits{}.handler_threads, requests,
      std::max<size_t>(100, requests / 20));
  return 0;
}
