// What the tail readers' dead-claim check costs on PostgreSQL (pg_query.cpp: a reader held at a
// claim deletes the claims of gone backends, at most once a second per connection). Prints, per
// call, the time of last_event_id and events_after as they were (the statements before the check,
// run here as text) beside PgQuery's, alternated in one run, with no claim open and with a live
// writer's claim holding the readers; and the clean-up statement alone.
//   bench_tail_claims [--events N] [--rounds R]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gateway/store/backend.h"
#include "gateway/store/postgres/connection.h"
#include "gateway/store/postgres/ingest_claims.h"
#include "tests/gateway/support/postgres_server.h"

using namespace tinyedge;
using Clock = std::chrono::steady_clock;

namespace {

template <typename F>
double us_per_call(int rounds, F&& f) {
  const auto start = Clock::now();
  for (int i = 0; i < rounds; ++i) f();
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / rounds;
}

// The statements PgQuery ran before the dead-claim check.
constexpr const char* kOldLast = "SELECT LEAST(COALESCE(MAX(id), 0), (SELECT MIN(low_id) FROM ingest_claims)) FROM events";
constexpr const char* kOldAfter =
    "SELECT x.id, n.node_id, x.boot_id, x.seq, x.at_ms, x.received_ms, x.model_id, x.model_version, x.label, "
    "x.score, x.runners_up, x.latency_us, x.sample_id FROM events x JOIN nodes n ON n.id = x.node_ref WHERE x.id > $1 "
    "AND x.id <= COALESCE((SELECT MIN(low_id) FROM ingest_claims), 9223372036854775807) ORDER BY x.id LIMIT $2";

// The statements it runs now (pg_query.cpp), as text.
constexpr const char* kNewLast = "SELECT COALESCE(MAX(id), 0), (SELECT MIN(low_id) FROM ingest_claims) FROM events";
constexpr const char* kNewAfter =
    "WITH h AS (SELECT (SELECT MIN(low_id) FROM ingest_claims) AS low), r AS (SELECT x.id, n.node_id, x.boot_id, "
    "x.seq, x.at_ms, x.received_ms, x.model_id, x.model_version, x.label, x.score, x.runners_up, x.latency_us, "
    "x.sample_id FROM events x JOIN nodes n ON n.id = x.node_ref WHERE x.id > $1 AND x.id <= COALESCE((SELECT low "
    "FROM h), 9223372036854775807) ORDER BY x.id LIMIT $2) SELECT r.*, h.low FROM h LEFT JOIN r ON true ORDER BY "
    "r.id";

}  // namespace

int main(int argc, char** argv) {
  int64_t events = 200000;
  int rounds = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--events")) events = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (test::PostgresServer::bin_dir().empty()) {
    std::fprintf(stderr, "no PostgreSQL server installed\n");
    return 1;
  }
  test::PostgresServer server;
  gateway::StoreOptions options;
  options.backend = "postgres";
  options.url = server.create_database("bench_tail");
  gateway::Metrics metrics;
  gateway::Logger log;
  {
    auto store = gateway::open_store(options, metrics, log);
    store->start([](std::vector<gateway::AckNotice>) {});
    const int64_t now = gateway::now_ms();
    for (int64_t done = 0; done < events;) {
      gateway::ResultsItem item{"n" + std::to_string(done / 10000), 1, static_cast<uint32_t>(done % 10000) + 1, 7, 3,
                                now, "mqtt", {}};
      for (int i = 0; i < 1000 && done < events; ++i, ++done) item.results.push_back({1, 200, 1000, 0, 0, {}});
      while (!store->submit(item)) store->flush();
    }
    store->flush();
  }
  gateway::pg::Connection old_reader(options.url);
  auto reader = gateway::open_query(options);
  const int64_t newest = reader->last_event_id();
  const int64_t near_tail = newest - 50;
  std::printf("events %lld, rounds %d, newest id %lld\n", static_cast<long long>(events), rounds,
              static_cast<long long>(newest));

  // The statements alone, old and new alternated on one connection; then PgQuery's calls (the
  // statement, reading the rows, and when held the clean-up once a second).
  const auto compare = [&](const char* when) {
    double t[6] = {};
    const auto after = gateway::pg::Params().add(near_tail).add(int64_t{200});
    for (int pass = 0; pass < 4; ++pass) {  // alternated: the load changes between passes
      t[0] += us_per_call(rounds / 4, [&] { old_reader.query(kOldLast); }) / 4;
      t[1] += us_per_call(rounds / 4, [&] { old_reader.query(kNewLast); }) / 4;
      t[2] += us_per_call(rounds / 4, [&] { reader->last_event_id(); }) / 4;
      t[3] += us_per_call(rounds / 4, [&] { old_reader.query(kOldAfter, after); }) / 4;
      t[4] += us_per_call(rounds / 4, [&] { old_reader.query(kNewAfter, after); }) / 4;
      t[5] += us_per_call(rounds / 4, [&] { reader->events_after(near_tail, 200); }) / 4;
    }
    std::printf("%s\n  last_event_id: old statement %.1f us, new %.1f us (x%.2f), PgQuery call %.1f us\n"
                "  events_after (50 rows): old statement %.1f us, new %.1f us (x%.2f), PgQuery call %.1f us\n",
                when, t[0], t[1], t[1] / t[0], t[2], t[3], t[4], t[4] / t[3], t[5]);
  };
  compare("no claim open:");
  // A live writer's claim below the newest id: every read is held, the check runs once a second.
  gateway::pg::Connection writer(options.url);
  writer.exec(gateway::pg::kClaimIds);
  writer.exec(("UPDATE ingest_claims SET low_id = " + std::to_string(newest - 10) + " WHERE pid = pg_backend_pid()").c_str());
  compare("a live claim holds readers:");
  gateway::pg::Connection admin(options.url);
  const double clean = us_per_call(rounds, [&] { admin.exec(std::string("BEGIN READ WRITE; ") + gateway::pg::kCleanDeadClaims + "; COMMIT"); });
  std::printf("the clean-up statement alone (1 live claim): %.1f us\n", clean);
  return 0;
}
