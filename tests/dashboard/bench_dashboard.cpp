// bench_dashboard: latency of the dashboard API's hot queries over a real gateway database, and
// keep-alive throughput with 64 concurrent clients (wrk if installed, else an in-process load
// generator). Not a test: it prints figures.
//
//   bench_dashboard [--events 1000000,10000000] [--dir /tmp/tinyedge-bench] [--requests 2000]
//                   [--seconds 10] [--connections 64]
// Databases are cached in --dir by size, so a second run skips the generation.
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
#include "tests/dashboard/api_fixture.h"
#include "tests/dashboard/fleet_db.h"

using namespace tinyedge::dashboard;
using namespace tinyedge::dashboard::testing;
using Clock = std::chrono::steady_clock;

namespace {

int64_t count_events(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  sqlite3_stmt* st = nullptr;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db, "SELECT max(id) FROM events", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

struct Latency {
  double p50_ms, p99_ms, mean_ms;
  size_t n;
};

Latency measure(tinyedge::fleet::ApiClient& c, const std::vector<std::string>& targets, size_t requests) {
  std::vector<double> ms;
  ms.reserve(requests);
  for (size_t i = 0; i < requests; ++i) {
    const auto t0 = Clock::now();
    auto r = c.get(targets[i % targets.size()]);
    const double dt = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (r.status != 200) {
      std::fprintf(stderr, "bench: %s answered %d: %s\n", targets[i % targets.size()].c_str(), r.status, r.body.c_str());
      std::exit(1);
    }
    ms.push_back(dt);
  }
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double v : ms) sum += v;
  auto at = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))]; };
  return {at(0.50), at(0.99), sum / static_cast<double>(ms.size()), ms.size()};
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

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes = {1'000'000, 10'000'000};
  std::string dir = (std::filesystem::temp_directory_path() / "tinyedge-bench").string();
  size_t requests = 2000;
  int seconds = 10, connections = 64;
  bool node_id_index = false;  // --node-id-index 1: add events(node_ref, id), proposed for the gateway schema
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--events") {
      sizes.clear();
      std::stringstream ss(v);
      for (std::string part; std::getline(ss, part, ',');) sizes.push_back(std::stoull(part));
    } else if (k == "--dir") dir = v;
    else if (k == "--requests") requests = std::stoull(v);
    else if (k == "--seconds") seconds = std::stoi(v);
    else if (k == "--connections") connections = std::stoi(v);
    else if (k == "--node-id-index") node_id_index = v == "1";
    else {
      std::fprintf(stderr, "bench_dashboard: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  std::filesystem::create_directories(dir);
  const bool have_wrk = std::system("command -v wrk >/dev/null 2>&1") == 0;
  std::printf("| events | GET /events node last 100: p50 / p99 ms | GET /stats/labels 24h: p50 / p99 ms | req/s, %d keep-alive clients (%s) |\n",
              connections, have_wrk ? "wrk" : "in-process");
  std::printf("|---|---|---|---|\n");
  for (size_t events : sizes) {
    const std::string path = dir + "/fleet-" + std::to_string(events) + ".db";
    if (count_events(path) != static_cast<int64_t>(events)) {
      std::fprintf(stderr, "generating %zu events into %s ...\n", events, path.c_str());
      const auto t0 = Clock::now();
      FleetSpec spec;
      spec.events = events;
      build_fleet_db(path, spec);
      std::fprintf(stderr, "  %.1f s\n", std::chrono::duration<double>(Clock::now() - t0).count());
    }
    {
      sqlite3* db = nullptr;
      sqlite3_open(path.c_str(), &db);
      sqlite3_exec(db,
                   node_id_index ? "CREATE INDEX IF NOT EXISTS events_by_node_id ON events(node_ref, id)"
                                 : "DROP INDEX IF EXISTS events_by_node_id",
                   nullptr, nullptr, nullptr);
      sqlite3_close(db);
    }
    ServerLimits limits;
    limits.rate_per_client = 0;
    ApiServer server(path, limits);
    tinyedge::fleet::ApiClient c(server.url(), kViewerToken);
    std::vector<std::string> node_targets, stats_targets;
    for (int n = 0; n < 50; ++n) node_targets.push_back("/api/v1/events?limit=100&node=" + node_name(n));
    stats_targets.push_back("/api/v1/stats/labels?window=24h");
    measure(c, node_targets, 50);  // warm the page cache and statement caches
    const Latency node = measure(c, node_targets, requests);
    const Latency stats = measure(c, stats_targets, std::max<size_t>(10, requests / 100));
    const std::string target = "/api/v1/events?limit=100&node=node-007";
    double rps = 0;
    if (have_wrk) {
      const std::string out = run("wrk -t2 -c" + std::to_string(connections) + " -d" + std::to_string(seconds) +
                                  "s -H 'Authorization: Bearer " + kViewerToken + "' '" + server.url() + target +
                                  "' 2>&1");
      const size_t pos = out.find("Requests/sec:");
      if (pos != std::string::npos) rps = std::stod(out.substr(pos + 13));
      if (out.find("Non-2xx") != std::string::npos) std::fprintf(stderr, "wrk saw non-2xx answers:\n%s\n", out.c_str());
    } else {
      rps = own_load(server.url(), target, connections, seconds);
    }
    std::printf("| %zu | %.2f / %.2f | %.1f / %.1f | %.0f |\n", events, node.p50_ms, node.p99_ms, stats.p50_ms,
                stats.p99_ms, rps);
    std::fflush(stdout);
  }
  std::printf("\nschema: %s\n", node_id_index ? "gateway schema + events(node_ref, id) index" : "gateway schema as shipped");
  std::printf("machine: %u cores; server: %u handler threads, one io thread; client on the same machine\n",
              std::thread::hardware_concurrency(), ServerLimits{}.handler_threads);
  return 0;
}
