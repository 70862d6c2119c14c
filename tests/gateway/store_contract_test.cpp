// The storage contract, one suite run against every backend: the embedded SQLite file and a real
// PostgreSQL server this test starts itself (tests/gateway/support/postgres_server.h). Events in
// (batched writes, dedupe by node/boot/seq, acks only for what is durable), events and nodes out
// (the dashboard's filters, pages and aggregates), and the rollout repository.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "gateway/rollout/model_registry.h"
#include "gateway/rollout/rollout_mailbox.h"
#include "gateway/rollout/rollout_service.h"
#include "gateway/rollout/rollout_store.h"
#include "gateway/store/backend.h"
#include "gateway/store/drift_baseline_store.h"
#include "gateway/store/leader_lease.h"
#include "gateway/store/postgres/connection.h"
#include "gateway/store/postgres/ingest_claims.h"
#include "gateway/store/rollout_backend.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/gateway/support/postgres_server.h"
#include "tests/rollout/sim_fleet.h"
#include "tests/rollout/test_packages.h"
#include "tinyedge.pb.h"

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

// One server for the whole run, started the first time a PostgreSQL case needs it.
test::PostgresServer* postgres() {
  static std::unique_ptr<test::PostgresServer> server;
  if (!server) server = std::make_unique<test::PostgresServer>();
  return server.get();
}

bool postgres_missing_is_fine() {
  // A user's machine without the server package skips; CI (CI=true) installs it, so there it fails.
  const char* ci = std::getenv("CI");
  return test::PostgresServer::bin_dir().empty() && !(ci && std::string(ci) == "true");
}

// Fresh, empty storage for one test: a file, or a database of its own on the shared server.
StoreOptions fresh_options(const std::string& backend, std::string& dir) {
  StoreOptions options;
  options.backend = backend;
  options.batch_linger_ms = 0;
  dir = test::make_temp_dir("gw-contract");
  if (backend == "sqlite") {
    options.path = dir + "/t.db";
  } else {
    static std::atomic<int> n{0};
    options.url = postgres()->create_database("contract_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
  }
  return options;
}

// The label statistics a fleet-wide query read (rollups and partial minutes) equal, bucket by
// bucket, label and score bin, those a node filter made the store count from the events.
void expect_same_buckets(const std::vector<LabelBucket>& from_rollup, const std::vector<LabelBucket>& from_events,
                         const std::string& what) {
  ASSERT_EQ(from_rollup.size(), from_events.size()) << what << ": buckets from the rollup vs counted";
  for (size_t i = 0; i < from_rollup.size(); ++i) {
    EXPECT_EQ(from_rollup[i].bucket_start_ms, from_events[i].bucket_start_ms) << what << ", bucket " << i;
    EXPECT_EQ(from_rollup[i].label, from_events[i].label) << what << ", bucket " << i;
    EXPECT_EQ(from_rollup[i].count, from_events[i].count) << what << ", bucket " << i;
    EXPECT_EQ(from_rollup[i].score_histogram, from_events[i].score_histogram) << what << ", bucket " << i;
  }
}

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres" && postgres_missing_is_fine()) GTEST_SKIP() << "no PostgreSQL server installed";
    options_ = fresh_options(GetParam(), dir_);
    log_.set_sink([this](LogLevel, const std::string& line) {
      std::lock_guard lock(lines_mutex_);
      lines_.push_back(line);
    });
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::unique_ptr<Store> open_store() {
    auto store = gateway::open_store(options_, metrics_, log_);
    store->start([this](std::vector<AckNotice> notices) {
      std::lock_guard lock(acks_mutex_);
      for (auto& n : notices) acks_.push_back(n);
    });
    return store;
  }
  std::unique_ptr<Query> open_query() { return gateway::open_query(options_); }
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

TEST_P(StoreContract, DeduplicatesAndAcksHighestContiguousSeq) {
  auto store = open_store();
  store->submit(results("a", 1, 1, 4));
  store->submit(results("a", 1, 3, 4));   // 3,4 duplicate; 5,6 new
  store->submit(results("a", 1, 10, 3));  // gap at 7..9
  store->flush();
  EXPECT_EQ(last_ack("a", 1), 6u) << "ack must stop below the gap";
  EXPECT_EQ(metrics_.events_stored.get(), 9u);
  EXPECT_EQ(metrics_.duplicates.get(), 2u);
  store->submit(results("a", 1, 7, 3));
  store->submit(results("a", 2, 1, 2));  // a new boot starts its own numbering
  store->flush();
  EXPECT_EQ(last_ack("a", 1), 12u);
  EXPECT_EQ(last_ack("a", 2), 2u);
  EXPECT_EQ(open_query()->event_count(), 14u);
}

TEST_P(StoreContract, AckStateIsRebuiltAfterRestart) {
  {
    auto store = open_store();
    store->submit(results("n", 5, 1, 5));
    store->submit(results("n", 5, 8, 2));
    store->flush();
    EXPECT_EQ(last_ack("n", 5), 5u);
  }
  auto store = open_store();
  store->submit(results("n", 5, 6, 2));
  store->flush();
  EXPECT_EQ(last_ack("n", 5), 9u) << "seqs 8..9 stored before the restart must count";
  store->submit(results("n", 5, 1, 9));  // a full resend after restart: all duplicates, still acked
  store->flush();
  EXPECT_EQ(last_ack("n", 5), 9u);
  EXPECT_EQ(metrics_.duplicates.get(), 9u);
}

TEST_P(StoreContract, GapThatNeverFillsIsGivenUpAfterTimeout) {
  options_.ack_gap_timeout_ms = 50;
  auto store = open_store();
  store->submit(results("g", 1, 1, 2));
  store->submit(results("g", 1, 5, 2));
  store->flush();
  EXPECT_EQ(last_ack("g", 1), 2u);
  std::this_thread::sleep_for(80ms);
  store->submit(results("g", 1, 7, 1));
  store->flush();
  EXPECT_EQ(last_ack("g", 1), 7u);
  EXPECT_EQ(metrics_.ack_gaps_skipped.get(), 2u);
  EXPECT_EQ(log_lines_with("gave up waiting"), 1u);
}

TEST_P(StoreContract, RetentionByAgeDeletesOnlyOldRows) {
  options_.retention.max_age_ms = 24 * 3600 * 1000;
  options_.retention.interval_ms = 5;
  auto store = open_store();
  const int64_t old = now_ms() - 3 * 24 * 3600 * 1000;  // a whole day older than the limit
  store->submit(results("old", 1, 1, 10, old));
  store->submit(TelemetryItem{"old", 1, old, "mqtt", 1, 2, 3, 4, 5, 6, 7});
  store->submit(results("new", 1, 1, 10));
  store->flush();
  auto query = open_query();
  for (int i = 0; i < 200 && query->event_count() > 10; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(query->event_count(), 10u);
  EventFilter f;
  f.node_id = "old";
  EXPECT_TRUE(query->events(f).events.empty());
  f.node_id = "new";
  EXPECT_EQ(query->events(f).events.size(), 10u);
}

TEST_P(StoreContract, QueriesFilterPaginateAndAggregate) {
  auto store = open_store();
  const int64_t t0 = now_ms() - 60000;
  store->submit(HelloItem{"cam-1", 9, t0, "mqtt", "host-sim", 4, 7, 3, 65536, 8192, "0102", "kws"});
  store->submit(GroupsItem{"cam-1", {"kitchen", "floor-1"}});
  store->submit(results("cam-1", 9, 1, 40, t0));
  store->submit(results("cam-2", 1, 1, 20, t0 + 30000));
  store->submit(StateItem{"cam-2", false, t0 + 40000});
  store->flush();
  auto query_ptr = open_query();
  auto& query = *query_ptr;

  EventFilter by_label;
  by_label.label = 3;
  const auto labelled = query.events(by_label);
  ASSERT_EQ(labelled.events.size(), 6u);  // seqs 3,13,23,33 of cam-1 and 3,13 of cam-2
  for (const auto& e : labelled.events) EXPECT_EQ(e.label, 3u);

  EventFilter by_group;
  by_group.group = "kitchen";
  by_group.min_score = 200;
  for (const auto& e : query.events(by_group).events) {
    EXPECT_EQ(e.node_id, "cam-1");
    EXPECT_GE(e.score, 200u);
  }

  EventFilter by_time;
  by_time.from_ms = t0 + 10000;
  EXPECT_EQ(query.events(by_time).events.size(), 20u);

  // Pagination: new events arriving between pages do not shift the older pages.
  EventFilter page_filter;
  page_filter.limit = 25;
  const auto first = query.events(page_filter);
  ASSERT_EQ(first.events.size(), 25u);
  ASSERT_TRUE(first.next_cursor);
  store->submit(results("cam-3", 1, 1, 16));
  store->flush();
  std::set<int64_t> seen;
  for (const auto& e : first.events) seen.insert(e.id);
  page_filter.before_id = first.next_cursor;
  const auto second = query.events(page_filter);
  ASSERT_EQ(second.events.size(), 25u);
  EXPECT_TRUE(second.next_cursor);
  for (const auto& e : second.events) EXPECT_TRUE(seen.insert(e.id).second) << "event " << e.id << " on two pages";
  page_filter.before_id = second.next_cursor;
  const auto third = query.events(page_filter);
  EXPECT_EQ(third.events.size(), 10u);
  EXPECT_FALSE(third.next_cursor);
  ASSERT_FALSE(third.events.empty());
  EXPECT_EQ(third.events.back().seq, 1u);
  EXPECT_EQ(third.events.back().node_id, "cam-1");
  ASSERT_EQ(third.events.back().runners_up.size(), 1u);
  EXPECT_EQ(third.events.back().runners_up[0], (std::pair<uint32_t, uint32_t>{2, 5}));

  LabelStatsFilter stats{t0, t0 + 60000, 30000, std::nullopt, std::nullopt};
  const auto buckets = query.label_stats(stats);
  uint64_t total = 0;
  for (const auto& b : buckets) {
    uint64_t hist = 0;
    for (auto h : b.score_histogram) hist += h;
    EXPECT_EQ(hist, b.count);
    // Buckets lie on the 30 s grid: the one holding t0 and the next one or two.
    EXPECT_EQ(b.bucket_start_ms % 30000, 0) << b.bucket_start_ms;
    EXPECT_GT(b.bucket_start_ms, t0 - 30000);
    EXPECT_LT(b.bucket_start_ms, t0 + 60000);
    total += b.count;
  }
  EXPECT_EQ(total, 60u);
  LabelStatsFilter kitchen{t0, t0 + 60000, 60000, std::nullopt, std::string("kitchen")};
  uint64_t kitchen_total = 0;
  for (const auto& b : query.label_stats(kitchen)) kitchen_total += b.count;
  EXPECT_EQ(kitchen_total, 40u) << "the group filter must leave cam-2 out";

  const auto latency = query.latency_percentiles({t0, t0 + 60000, std::nullopt});
  ASSERT_EQ(latency.size(), 1u);
  EXPECT_EQ(latency[0].count, 60u);
  EXPECT_EQ(latency[0].max_us, latency_bucket(1040));
  EXPECT_EQ(latency[0].p50_us, latency_bucket(1015));  // latencies 1001..1040 and 1001..1020: the 30th is 1015

  const auto nodes = query.nodes();
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].node_id, "cam-1");
  EXPECT_EQ(nodes[0].hardware, "host-sim");
  EXPECT_EQ(nodes[0].model_version, 3u);
  EXPECT_EQ(nodes[0].groups, (std::vector<std::string>{"floor-1", "kitchen"}));
  EXPECT_TRUE(nodes[0].online);
  EXPECT_FALSE(nodes[1].online) << "cam-2's last will said offline";
  EXPECT_FALSE(query.node("nope"));

  // The quality gate follows the log oldest first from a cursor.
  const auto after = query.events_after(0, 5);
  ASSERT_EQ(after.size(), 5u);
  EXPECT_LT(after[0].id, after[4].id);
  EXPECT_EQ(query.events_after(query.last_event_id(), 5).size(), 0u);

  // An activated update changes what the node runs without a new Hello.
  store->submit(
      OtaStatusItem{"cam-1", 9, t0 + 50000, "mqtt", 7, 4, tinyedge_v1_OtaState_OTA_ACTIVATED, 0, 100, 100, 4});
  store->flush();
  const auto updated = query.node("cam-1");
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->model_version, 4u) << "node row still shows the version from its Hello";

  // A node's Telemetry and OtaStatus messages read back newest first (the node page). In this case
  // rather than one of its own: every PostgreSQL case pays for a server of its own.
  store->submit(HelloItem{"tel-1", 1, t0, "mqtt", "host-sim", 4, 7, 3, 65536, 8192, "0102", "kws"});
  store->submit(HelloItem{"tel-2", 1, t0, "mqtt", "host-sim", 4, 7, 3, 65536, 8192, "0102", "kws"});
  store->submit(TelemetryItem{"tel-1", 1, t0 + 1000, "mqtt", 10, 100, 9000, 1500, 0, 0, 0, 1});
  store->submit(TelemetryItem{"tel-1", 2, t0 + 3000, "mqtt", 20, 50, 9000, 1500, 4, 1, 2, 3});
  store->submit(TelemetryItem{"tel-2", 1, t0 + 2000, "mqtt", 30, 70, 9000, 1500, 0, 0, 0, 0});
  store->submit(
      OtaStatusItem{"tel-1", 1, t0 + 4000, "mqtt", 7, 4, tinyedge_v1_OtaState_OTA_DOWNLOADING, 0, 50, 100, 3});
  store->submit(OtaStatusItem{"tel-1", 2, t0 + 5000, "mqtt", 7, 4, tinyedge_v1_OtaState_OTA_ACTIVATED, 0, 100, 100, 4});
  store->flush();
  auto telemetry_query = open_query();
  const auto t = telemetry_query->telemetry("tel-1", 10);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].received_ms, t0 + 3000) << "newest first";
  EXPECT_EQ(t[0].boot_id, 2u);
  EXPECT_EQ(t[0].failed_inferences, 3u);
  EXPECT_EQ(t[0].reconnects, 2u);
  EXPECT_EQ(t[0].dropped_results, 4u);
  EXPECT_EQ(t[1].uptime_s, 10u);
  EXPECT_EQ(telemetry_query->telemetry("tel-1", 1).size(), 1u);
  EXPECT_EQ(telemetry_query->telemetry("nope", 10).size(), 0u);
  const auto o = telemetry_query->ota_history("tel-1", 10);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].state, static_cast<uint32_t>(tinyedge_v1_OtaState_OTA_ACTIVATED));
  EXPECT_EQ(o[0].active_version, 4u);
  EXPECT_EQ(o[1].bytes_written, 50u);
  EXPECT_EQ(telemetry_query->ota_history("tel-2", 10).size(), 0u);
}

// /stats reads whole minutes from the rollup and the rest from the events; the same counts, per
// bucket, label and score bin, must come out as when every event is counted (a node filter makes
// the query count events: all of them come from that one node). A resend must not count twice,
// and retention must take the rollup of the events it removes with them.
TEST_P(StoreContract, LabelStatsFromTheRollupEqualTheEventsCounted) {
  const int64_t minute = kRollupMs;
  const int64_t now = now_ms();
  const int64_t old = now - 3 * 24 * 3600 * 1000;  // a whole day older than the retention below
  const auto compare = [&](Query& query, uint64_t expected_total, const char* when) {
    LabelStatsFilter fleet;
    fleet.from_ms = (old - 10 * minute) / minute * minute;
    fleet.to_ms = now + 90000;  // ends mid-minute: the last minute comes from the events
    fleet.bucket_ms = 2 * minute;
    ASSERT_FALSE(rollup_span(fleet).empty());
    LabelStatsFilter counted = fleet;
    counted.node_id = "r";
    ASSERT_TRUE(rollup_span(counted).empty());
    const auto from_rollup = query.label_stats(fleet);
    const auto from_events = query.label_stats(counted);
    uint64_t total = 0;
    for (const auto& b : from_events) total += b.count;
    EXPECT_EQ(total, expected_total) << when << ": events counted";
    expect_same_buckets(from_rollup, from_events, when);
  };
  {
    auto store = open_store();
    store->submit(results("r", 1, 1, 50, old));
    store->submit(results("r", 1, 51, 50, now - 2 * minute));
    store->submit(results("r", 1, 20, 50, now - minute));  // 20..69 again: stored already
    store->submit(results("r", 1, 101, 10, now));          // the window's last, partial minute
    store->submit(results("r", 2, 1, 30, now - 5 * minute));
    store->flush();
    store->stop();
    EXPECT_EQ(metrics_.duplicates.get(), 50u);
    compare(*open_query(), 140, "after ingest");
  }
  options_.retention.max_age_ms = 24 * 3600 * 1000;
  options_.retention.interval_ms = 5;
  auto store = open_store();
  auto query = open_query();
  for (int i = 0; i < 300 && query->event_count() > 90; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(query->event_count(), 90u) << "retention did not remove the old day";
  compare(*query, 90, "after retention");
}

// Users ask for any window: one that starts and ends mid-minute still reads its whole minutes from
// the rollup (buckets of whole minutes lie on the minute grid) and counts only the two partial
// minutes at its ends from the events. Every bucket, label and score bin must equal what counting
// every event gives, and an event a millisecond outside the window must not be counted.
TEST_P(StoreContract, LabelStatsOfAWindowStartingMidMinuteReadTheRollupAndCountTheEnds) {
  const int64_t minute = kRollupMs;
  const int64_t m = (now_ms() - 20 * minute) / minute * minute;  // a minute's start
  const int64_t from = m + 17'000, to = m + 6 * minute + 42'000;
  {
    auto store = open_store();
    uint32_t seq = 1;
    const auto at = [&](int64_t at_ms, uint32_t count) {
      store->submit(results("r", 1, seq, count, at_ms));
      seq += count;
    };
    at(m + 5'000, 3);       // the first minute, before the window: left out
    at(from - 1, 2);        // a millisecond early: left out
    at(from, 4);            // the window's first millisecond
    at(m + 40'000, 5);      // the first, partial minute
    at(m + minute + 1, 6);  // whole minutes
    at(m + 3 * minute + 59'999, 7);
    at(m + 6 * minute + 10'000, 8);  // the last, partial minute
    at(to - 1, 9);
    at(to, 2);  // the first millisecond after the window: left out
    at(m + 6 * minute + 55'000, 3);
    store->flush();
    store->stop();
  }
  auto query = open_query();
  for (const int64_t bucket : {2 * minute, 60 * minute, minute}) {
    const std::string what = "bucket " + std::to_string(bucket / minute) + " min";
    LabelStatsFilter fleet{from, to, bucket, std::nullopt, std::nullopt};
    const RollupSpan span = rollup_span(fleet);
    EXPECT_EQ(span.from_ms, m + minute) << what << ": the rollup must answer the window's whole minutes";
    EXPECT_EQ(span.to_ms, m + 6 * minute) << what << ": the rollup must answer the window's whole minutes";
    LabelStatsFilter counted = fleet;
    counted.node_id = "r";
    ASSERT_TRUE(rollup_span(counted).empty());
    const auto from_rollup = query->label_stats(fleet);
    const auto from_events = query->label_stats(counted);
    uint64_t total = 0;
    for (const auto& b : from_rollup) {
      total += b.count;
      EXPECT_EQ(b.bucket_start_ms % bucket, 0) << what << ": bucket " << b.bucket_start_ms << " off the grid";
      EXPECT_GT(b.bucket_start_ms + bucket, from) << what << ": a bucket before the window";
      EXPECT_LT(b.bucket_start_ms, to) << what << ": a bucket after the window";
    }
    EXPECT_EQ(total, 4u + 5 + 6 + 7 + 8 + 9) << what << ": events in [from, to) counted from the rollup";
    expect_same_buckets(from_rollup, from_events, what);
  }
  // Buckets that are not whole minutes are counted from the events, on their own grid.
  LabelStatsFilter fine{from, to, 45'000, std::nullopt, std::nullopt};
  EXPECT_TRUE(rollup_span(fine).empty());
  uint64_t total = 0;
  for (const auto& b : query->label_stats(fine)) {
    total += b.count;
    EXPECT_EQ(b.bucket_start_ms % 45'000, 0) << "45 s bucket " << b.bucket_start_ms << " off the grid";
  }
  EXPECT_EQ(total, 4u + 5 + 6 + 7 + 8 + 9) << "45 s buckets: events in [from, to)";
}

// #18: buckets of whole half hours read the window's whole half hours from label_half_hours, the
// minutes at their two ends from label_minutes and the partial minutes from the events. For a
// window starting and ending mid-half-hour and mid-minute, every bucket, label and score bin must
// equal what counting every event gives (a node filter makes the query count them), with a resend
// not counted twice, and still after retention takes the old day away with its half hours.
TEST_P(StoreContract, LabelStatsOverHalfHoursEqualTheEventsCountedWhereverTheWindowEnds) {
  const int64_t minute = kRollupMs, half_hour = kCoarseRollupMs;
  const int64_t now = now_ms();
  const int64_t h = (now - 5 * half_hour) / half_hour * half_hour;  // a half hour's start, 2-2.5 h ago
  const int64_t from = h + 7 * minute + 17'000, to = h + 4 * half_hour + 11 * minute + 42'000;
  const int64_t old = (now - 3 * 24 * 3600 * 1000) / half_hour * half_hour;  // a day before the retention cutoff
  uint64_t inside = 0;  // events written at from <= at_ms < to, each once
  {
    auto store = open_store();
    uint32_t seq = 1;
    const auto at = [&](int64_t at_ms, uint32_t count) {
      store->submit(results("r", 1, seq, count, at_ms));
      seq += count;
      if (at_ms >= from && at_ms < to) inside += count;
    };
    at(old + 3 * minute, 40);  // the old day: a whole half hour of the window below, until retention
    at(old + half_hour + 5 * minute + 1'000, 30);
    at(h + 7 * minute + 2'000, 3);  // the first, partial minute, before the window: left out
    at(from - 1, 2);
    at(from, 4);                    // the window's first millisecond
    at(h + 7 * minute + 50'000, 5);  // the first, partial minute
    at(h + 8 * minute, 6);           // whole minutes of the first, partial half hour
    at(h + 29 * minute + 59'999, 7);
    at(h + half_hour, 8);  // whole half hours
    at(h + 2 * half_hour + 13 * minute + 1, 9);
    at(h + 4 * half_hour - 1, 10);
    at(h + 4 * half_hour + 10 * minute + 59'999, 11);  // whole minutes of the last, partial half hour
    at(h + 4 * half_hour + 11 * minute + 3'000, 12);   // the last, partial minute
    at(to - 1, 2);
    at(to, 3);  // the first millisecond after the window: left out
    at(h + 4 * half_hour + 20 * minute, 4);
    store->submit(results("r", 1, 60, 20, h + half_hour + 1));  // stored already: not counted again
    store->flush();
    store->stop();
    EXPECT_EQ(metrics_.duplicates.get(), 20u);
  }
  const auto compare = [&](Query& query, int64_t window_from, uint64_t expected_total, const std::string& when) {
    for (const int64_t bucket : {half_hour, 2 * half_hour, 48 * half_hour, 2 * minute}) {
      const std::string what = when + ", bucket " + std::to_string(bucket / minute) + " min";
      LabelStatsFilter fleet{window_from, to, bucket, std::nullopt, std::nullopt};
      const RollupSpan halves = coarse_rollup_span(fleet);
      if (bucket % half_hour == 0) {
        EXPECT_EQ(halves.from_ms, window_from == from ? h + half_hour : old + half_hour)
            << what << ": the half hours' rollup must answer the window's whole half hours";
        EXPECT_EQ(halves.to_ms, h + 4 * half_hour) << what << ": the half hours' rollup must answer the whole half hours";
      } else {
        EXPECT_TRUE(halves.empty()) << what << ": buckets that are not whole half hours read no half hour";
      }
      LabelStatsFilter counted = fleet;
      counted.node_id = "r";
      ASSERT_TRUE(rollup_span(counted).empty());
      const auto from_rollup = query.label_stats(fleet);
      const auto from_events = query.label_stats(counted);
      uint64_t total = 0;
      for (const auto& b : from_rollup) total += b.count;
      EXPECT_EQ(total, expected_total) << what << ": events in [from, to) counted from the rollups";
      expect_same_buckets(from_rollup, from_events, what);
    }
  };
  ASSERT_EQ(inside, 4u + 5 + 6 + 7 + 8 + 9 + 10 + 11 + 12 + 2);
  compare(*open_query(), from, inside, "after ingest");
  const int64_t since_old = old + 20 * minute + 5'000;  // from mid-minute in the old day's first half hour
  compare(*open_query(), since_old, inside + 3 + 2 + 30, "from the old day");
  options_.retention.max_age_ms = 24 * 3600 * 1000;
  options_.retention.interval_ms = 5;
  auto store = open_store();
  auto query = open_query();
  const uint64_t written = 40 + 30 + 3 + 2 + inside + 3 + 4;
  for (int i = 0; i < 300 && query->event_count() > written - 70; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(query->event_count(), written - 70) << "retention did not remove the old day";
  compare(*query, from, inside, "after retention");
  compare(*query, since_old, inside + 3 + 2, "from the old day, after retention");
}

// The model page's latency reads whole minutes from the latency rollup and the window's ends
// from the events: per model version, the count and percentiles must be those of the events
// written (resends not counted twice), fleet-wide and for one model, and retention must take the
// rollup of the events it removes with them.
TEST_P(StoreContract, LatencyFromTheRollupEqualsTheEventsCounted) {
  const int64_t minute = kRollupMs;
  const int64_t now = now_ms();
  const int64_t old = now - 3 * 24 * 3600 * 1000;  // a whole day older than the retention below
  // Expected histograms, from what was written: model version -> bucket -> count.
  std::map<std::pair<uint32_t, uint32_t>, std::map<uint32_t, uint64_t>> written, recent;
  const auto batch = [&](const std::string& node, uint32_t model, uint32_t version, uint32_t first, uint32_t count,
                         int64_t received_ms, bool counted) {
    ResultsItem item{node, 1, first, model, version, received_ms, "mqtt", {}};
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t seq = first + i;
      // Latencies from 7 us to ~80 ms, inference times spread back over ~3 minutes.
      const uint32_t latency = 7 + (seq * 2654435761u) % (model == 7 ? 80000u : 3000u);
      item.results.push_back({seq % 10, (seq * 7) % 256, latency, (seq % 25) * 7000, seq, {}});
      if (!counted) continue;
      written[{model, version}][latency_bucket(latency)]++;
      if (received_ms > old) recent[{model, version}][latency_bucket(latency)]++;
    }
    return item;
  };
  const auto expected = [](const std::map<std::pair<uint32_t, uint32_t>, std::map<uint32_t, uint64_t>>& h) {
    std::vector<LatencyStats> out;
    for (const auto& [model, buckets] : h)
      out.push_back(latency_stats(model.first, model.second, {buckets.begin(), buckets.end()}));
    return out;
  };
  const auto compare = [&](Query& query, const std::vector<LatencyStats>& want, const char* when) {
    LatencyFilter fleet{(old - 10 * minute) / minute * minute + 17000, now + 90000,
                        std::nullopt};  // both ends mid-minute
    ASSERT_FALSE(latency_rollup_span(fleet.from_ms, fleet.to_ms).empty());
    const auto got = query.latency_percentiles(fleet);
    ASSERT_EQ(got.size(), want.size()) << when << ": model versions";
    for (size_t i = 0; i < got.size(); ++i) {
      const std::string what = std::string(when) + ", model " + std::to_string(want[i].model_id) + " v" +
                               std::to_string(want[i].model_version);
      EXPECT_EQ(got[i].model_id, want[i].model_id) << what;
      EXPECT_EQ(got[i].model_version, want[i].model_version) << what;
      EXPECT_EQ(got[i].count, want[i].count) << what << ": events counted";
      EXPECT_EQ(got[i].p50_us, want[i].p50_us) << what << ": p50";
      EXPECT_EQ(got[i].p90_us, want[i].p90_us) << what << ": p90";
      EXPECT_EQ(got[i].p99_us, want[i].p99_us) << what << ": p99";
      EXPECT_EQ(got[i].max_us, want[i].max_us) << what << ": max";
      LatencyFilter one = fleet;
      one.model = std::pair{want[i].model_id, want[i].model_version};
      const auto only = query.latency_percentiles(one);
      ASSERT_EQ(only.size(), 1u) << what << ": the model's own query";
      EXPECT_EQ(only[0].count, want[i].count) << what << ": the model's own query";
      EXPECT_EQ(only[0].p99_us, want[i].p99_us) << what << ": the model's own query";
    }
    // A window shorter than a minute is counted from the events alone.
    const auto short_window = query.latency_percentiles({now - 20000, now + 1, std::nullopt});
    uint64_t n = 0;
    for (const auto& s : short_window) n += s.count;
    EXPECT_GT(n, 0u) << when << ": the last 20 s";
  };
  {
    auto store = open_store();
    store->submit(batch("r", 7, 3, 1, 60, old, true));
    store->submit(batch("r", 7, 3, 61, 200, now - 2 * minute, true));
    store->submit(batch("r", 7, 3, 100, 50, now - minute, false));  // 100..149 again: stored already
    store->submit(batch("s", 9, 1, 1, 120, now - 4 * minute, true));
    store->submit(batch("s", 9, 1, 121, 40, now, true));
    store->flush();
    store->stop();
    EXPECT_EQ(metrics_.duplicates.get(), 50u);
    compare(*open_query(), expected(written), "after ingest");
  }
  options_.retention.max_age_ms = 24 * 3600 * 1000;
  options_.retention.interval_ms = 5;
  auto store = open_store();
  auto query = open_query();
  for (int i = 0; i < 300 && query->event_count() > 360; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(query->event_count(), 360u) << "retention did not remove the old day";
  compare(*query, expected(recent), "after retention");
}

// A result resent a day later (the node was offline, or its age was counted from a later send)
// carries another inference time: in PostgreSQL it falls into another day's partition, where no
// unique index sees the first copy. It must still be refused.
TEST_P(StoreContract, ResendInAnotherDaysPartitionIsStoredOnce) {
  auto store = open_store();
  const int64_t day = 24 * 3600 * 1000;
  const int64_t first = now_ms() - 2 * day;
  store->submit(results("late", 1, 1, 10, first));
  store->flush();
  store->submit(results("late", 1, 1, 12, first + day));  // 1..10 again, a day later, and 11..12
  store->flush();
  EXPECT_EQ(open_query()->event_count(), 12u) << "a resend in another day's partition was stored twice";
  EXPECT_EQ(metrics_.duplicates.get(), 10u);
  EXPECT_EQ(last_ack("late", 1), 12u);
}

// Two writers on one database (two gateways; the same result delivered to both around a
// failover): each result is stored once, and each writer acks what is durable, whoever wrote it.
TEST_P(StoreContract, ResultDeliveredToTwoWritersIsStoredOnce) {
  if (GetParam() != "postgres") GTEST_SKIP() << "one gateway per SQLite file";
  auto a = open_store();
  auto b = open_store();
  std::thread ta([&] {
    for (uint32_t i = 0; i < 50; ++i) a->submit(results("twice", 1, 1 + i * 10, 10));
  });
  std::thread tb([&] {
    for (uint32_t i = 0; i < 50; ++i) b->submit(results("twice", 1, 1 + i * 10, 10));
  });
  ta.join();
  tb.join();
  a->flush();
  b->flush();
  EXPECT_EQ(open_query()->event_count(), 500u);
  EXPECT_EQ(metrics_.events_stored.get(), 500u);
  EXPECT_EQ(metrics_.duplicates.get(), 500u);
  EXPECT_EQ(last_ack("twice", 1), 500u);

  // Then the same results handed to both at the same moment, round after round (both busy): each
  // copies its batch in before it locks the boots' records, so both copy the same seqs; the second
  // to lock must take its copies back, out of the events and out of both rollups, or the fleet's
  // counts go up twice. (One case with the above: each case run alone starts its own server.)
  // Inside a whole half hour (2-2.5 h ago): the fleet's figures come from the rollups, minutes and half hours.
  const int64_t at = (now_ms() - 4 * kCoarseRollupMs) / kCoarseRollupMs * kCoarseRollupMs + 7 * kRollupMs + 1000;
  constexpr uint32_t kRounds = 4, kBatch = 1000;
  for (uint32_t round = 0; round < kRounds; ++round) {
    for (const char* node : {"race-a", "race-b"}) {
      a->submit(results(node, 1, 1 + round * kBatch, kBatch, at));
      b->submit(results(node, 1, 1 + round * kBatch, kBatch, at));
    }
    a->flush();
    b->flush();
  }
  constexpr uint64_t kEach = 2ull * kRounds * kBatch;
  auto query = open_query();
  EXPECT_EQ(query->event_count(), 500u + kEach) << "a result both writers copied was stored twice";
  EXPECT_EQ(metrics_.events_stored.get(), 500u + kEach);
  EXPECT_EQ(metrics_.duplicates.get(), 500u + kEach);
  EXPECT_EQ(last_ack("race-a", 1), kRounds * kBatch);
  EXPECT_EQ(last_ack("race-b", 1), kRounds * kBatch);
  LabelStatsFilter fleet;
  fleet.from_ms = (at - 10 * kRollupMs) / kRollupMs * kRollupMs;
  fleet.to_ms = now_ms() + 90000;
  fleet.bucket_ms = kRollupMs;
  ASSERT_FALSE(rollup_span(fleet).empty());
  uint64_t labelled = 0;
  for (const auto& bucket : query->label_stats(fleet)) labelled += bucket.count;
  EXPECT_EQ(labelled, 500u + kEach) << "label rollup: the copies taken back are still counted";
  LabelStatsFilter halves = fleet;
  halves.bucket_ms = kCoarseRollupMs;
  ASSERT_FALSE(coarse_rollup_span(halves).empty());
  uint64_t by_half_hour = 0;
  for (const auto& bucket : query->label_stats(halves)) by_half_hour += bucket.count;
  EXPECT_EQ(by_half_hour, 500u + kEach) << "half hours' label rollup: the copies taken back are still counted";
  uint64_t timed = 0;
  for (const auto& s : query->latency_percentiles({fleet.from_ms, fleet.to_ms, std::nullopt})) timed += s.count;
  EXPECT_EQ(timed, 500u + kEach) << "latency rollup: the copies taken back are still counted";
}

// #18: readers that tail the log by id (drift watch, quality gate, live feed) move their cursor to
// the highest id read. With two gateways, a batch can commit lower ids after another batch was
// read: the tail must stop below the ids of a batch still open, and see every event once.
TEST_P(StoreContract, TailByIdSeesEveryBatchOnceWhateverOrderTheyCommit) {
  auto a = open_store();
  auto query = open_query();
  int64_t cursor = query->last_event_id();
  ASSERT_EQ(cursor, 0) << "an empty log's tail starts at 0";
  a->submit(results("held", 1, 1, 10));
  a->flush();
  std::map<int64_t, std::string> seen;  // id -> node/boot/seq, as the drift watch reads them
  size_t reads = 0;
  const auto tail = [&] {
    for (auto rows = query->events_after(cursor, 4); !rows.empty(); rows = query->events_after(cursor, 4)) {
      for (const auto& e : rows) {
        ++reads;
        seen[e.id] = e.node_id + "/" + std::to_string(e.boot_id) + "/" + std::to_string(e.seq);
        cursor = std::max(cursor, e.id);
      }
    }
  };
  tail();
  ASSERT_EQ(seen.size(), 10u);
  if (GetParam() == "postgres") {
    // Writer a's next batch for "held" copies its events in (takes its ids), then waits on the
    // boot's acks row, locked here; writer b meanwhile commits a batch with higher ids.
    pg::Connection lock(options_.url);
    lock.exec("BEGIN");
    lock.exec("SELECT 1 FROM acks a JOIN nodes n ON n.id = a.node_ref WHERE n.node_id = 'held' FOR UPDATE OF a");
    a->submit(results("held", 1, 11, 10));
    // (Waiting on this transaction's row lock: the only lock it holds, needed only after the COPY.)
    bool waiting = false;
    for (int i = 0; i < 1000 && !waiting; ++i) {
      waiting = lock.query(
                        "SELECT count(*) FROM pg_locks WHERE NOT granted AND pg_backend_pid() = "
                        "ANY(pg_blocking_pids(pid))")
                    .int64(0, 0) > 0;
      if (!waiting) std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(waiting) << "writer a's batch never reached the locked acks row";
    auto b = open_store();
    b->submit(results("quick", 1, 1, 10));
    b->flush();
    ASSERT_EQ(last_ack("quick", 1), 10u) << "writer b's batch did not commit while a's was open";
    EXPECT_LE(query->last_event_id(), 10) << "last_event_id went past the ids of a batch still open";
    tail();
    EXPECT_EQ(seen.size(), 10u) << "the tail read past the ids of a batch still open (up to id " << cursor << ")";
    lock.exec("COMMIT");
    a->flush();
    ASSERT_EQ(last_ack("held", 1), 20u);
    // The claim a SIGKILLed gateway's backend left (pid 1 is never a backend): the next batch of
    // any writer deletes it (readers do too: ReadersPassTheClaimOfAWriterWhoseConnectionIsGone).
    lock.exec("INSERT INTO ingest_claims VALUES (1, now(), 5)");
    b->submit(results("quick", 1, 11, 10));
    b->flush();
    ASSERT_EQ(last_ack("quick", 1), 20u);
    EXPECT_EQ(lock.query("SELECT count(*) FROM ingest_claims").int64(0, 0), 0) << "a writer kept a dead backend's claim";
    EXPECT_EQ(query->last_event_id(), 40) << "a dead backend's claim still holds the readers back";
  } else {
    a->submit(results("held", 1, 11, 10));
    a->submit(results("quick", 1, 1, 10));
    a->flush();
  }
  tail();
  std::set<std::string> keys;
  for (const auto& [id, key] : seen) keys.insert(key);
  const size_t total = GetParam() == "postgres" ? 40u : 30u;
  EXPECT_EQ(keys.size(), total) << "the tail skipped events: it saw " << keys.size() << " of " << total;
  EXPECT_EQ(reads, total) << "the tail read some events more than once";
  EXPECT_EQ(query->last_event_id(), seen.rbegin()->first) << "with no batch open, the tail reaches the newest id";
}

// #18: a gateway SIGKILLed mid-batch leaves its claim behind (its backend ends, the row stays).
// Readers must not wait at it until some other gateway writes or starts: with no writes at all,
// both ways of tailing pass it within a bounded time, and a live writer's claim still holds them.
TEST_P(StoreContract, ReadersPassTheClaimOfAWriterWhoseConnectionIsGone) {
  if (GetParam() != "postgres") GTEST_SKIP() << "SQLite has one writer and no claims";
  auto store = open_store();
  pg::Connection admin(options_.url);
  // A writer that claims ids, opens its batch and takes an id, and whose backend then ends as a
  // SIGKILLed gateway's does, while `store` commits a batch above its claim.
  const auto dying_writer = [&](uint32_t first_seq) {
    auto dying = std::make_unique<pg::Connection>(options_.url);
    dying->exec(pg::kClaimIds);
    dying->exec("BEGIN");
    dying->query("SELECT nextval('events_id_seq')");
    store->submit(results("n", 1, first_seq, 10));
    store->flush();
    return dying;
  };
  const auto terminate = [&](pg::Connection& dying) {
    const int64_t pid = dying.query("SELECT pg_backend_pid()").int64(0, 0);
    admin.query("SELECT pg_terminate_backend($1)", pg::Params().add(pid));
    bool gone = false;
    for (int i = 0; i < 500 && !gone; ++i) {
      gone = admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pg::Params().add(pid)).int64(0, 0) == 0;
      if (!gone) std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(gone) << "backend " << pid << " did not end";
  };
  store->submit(results("n", 1, 1, 10));
  store->flush();
  auto tail = open_query();   // as the drift watch reads: events_after only
  auto newest = open_query();  // as the live feed and quality gate start: last_event_id

  auto dying = dying_writer(11);
  ASSERT_EQ(last_ack("n", 1), 20u);
  EXPECT_EQ(tail->events_after(0, 100).size(), 10u) << "the tail went past a live writer's claim";
  EXPECT_EQ(newest->last_event_id(), 10) << "last_event_id went past a live writer's claim";
  terminate(*dying);
  std::vector<EventRow> rows;
  const auto until = std::chrono::steady_clock::now() + 5s;
  while ((rows = tail->events_after(10, 100)).size() < 10 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(rows.size(), 10u) << "with no writes, events_after still stops at the claim of a connection that is gone";

  dying = dying_writer(21);
  ASSERT_EQ(last_ack("n", 1), 30u);
  const int64_t held = newest->last_event_id();
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(held, rows.back().id) << "last_event_id went past a live writer's claim";
  terminate(*dying);
  int64_t last = 0;
  const auto until_second = std::chrono::steady_clock::now() + 5s;
  while ((last = newest->last_event_id()) == held && std::chrono::steady_clock::now() < until_second)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(last, admin.query("SELECT MAX(id) FROM events").int64(0, 0))
      << "with no writes, last_event_id still stops at the claim of a connection that is gone";
  EXPECT_EQ(admin.query("SELECT count(*) FROM ingest_claims").int64(0, 0), 0) << "a dead connection's claim is left";
  EXPECT_EQ(tail->events_after(0, 100).size(), 30u) << "each batch stored once, nothing of the dead writers'";
}

TEST_P(StoreContract, WrongPasswordOrUrlIsAClearErrorAtStart) {
  if (GetParam() != "postgres") GTEST_SKIP() << "a file has no password";
  const std::string good = options_.url;
  options_.url = postgres()->url(good.substr(good.rfind('/') + 1), "not-the-password");
  try {
    open_store();
    FAIL() << "a wrong password was accepted";
  } catch (const std::exception& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("password authentication failed"), std::string::npos) << what;
    EXPECT_EQ(what.find("not-the-password"), std::string::npos) << "the password must not be logged: " << what;
  }
  options_.url = "postgresql://tinyedge@127.0.0.1:" + std::to_string(test::free_port()) + "/x";
  try {
    open_store();
    FAIL() << "a URL where no server listens was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
  }
}

// The server goes away mid-stream: nothing is acked while it is gone, the gateway says so (the
// flag behind /healthz and the log), refuses new results (nodes keep them), and once the server
// is back the held batch commits and is acked, stored once.
TEST_P(StoreContract, UnreachableDatabaseKeepsResultsUnacknowledged) {
  if (GetParam() != "postgres") GTEST_SKIP() << "a file is never out of reach";
  auto store = open_store();
  store->submit(results("u", 1, 1, 5));
  store->flush();
  ASSERT_EQ(last_ack("u", 1), 5u);
  postgres()->stop();
  store->submit(results("u", 1, 6, 5));
  for (int i = 0; i < 500 && !store->unavailable(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(store->unavailable()) << "the store never noticed the server was gone";
  EXPECT_EQ(metrics_.store_unavailable.get(), 1u);
  EXPECT_FALSE(store->submit(results("u", 1, 11, 5))) << "results must be refused while nothing can be stored";
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(last_ack("u", 1), 5u) << "acked while the database was down";
  EXPECT_GE(log_lines_with("database out of reach"), 1u);
  postgres()->start();
  store->flush();
  EXPECT_FALSE(store->unavailable());
  EXPECT_EQ(last_ack("u", 1), 10u);
  EXPECT_GE(log_lines_with("database reachable again"), 1u);
  EXPECT_EQ(open_query()->event_count(), 10u);
}

// Rollout leadership: of the gateways sharing a store exactly one leads; when its session ends
// (the process died) another takes over at its next try.
TEST_P(StoreContract, OneLeaderAtATimeAndATakeoverWhenItGoes) {
  auto first = open_leader_lease(options_);
  EXPECT_TRUE(first->held());
  if (GetParam() == "sqlite") return;  // one gateway per file: it always leads
  auto second = open_leader_lease(options_);
  EXPECT_FALSE(second->held()) << "two leaders at once";
  EXPECT_TRUE(first->held()) << "the leader lost the lease while its session lives";
  first.reset();  // the leader's connection closes, as when its process is killed
  bool took_over = false;
  for (int i = 0; i < 50 && !(took_over = second->held()); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(took_over) << "no takeover within 5 s of the leader going away";
}

// #16: the node's list after each answer is the whole truth about its classes, for that node only.
EnrollmentItem enrollment(const std::string& node, uint32_t action, uint32_t refusal, const std::string& label,
                          std::vector<std::string> enrolled, int64_t at) {
  EnrollmentItem item{node, 1, at, "mqtt", action, refusal, label, 0, 0, "", std::move(enrolled), 7, 3, ""};
  if (action == tinyedge_v1_EnrollCommand_Action_START && refusal == tinyedge_v1_EnrollRefusal_ENROLL_OK) {
    item.examples_used = 5, item.distance_q14 = 9000, item.nearest_label = "Ankle boot";
  }
  return item;
}

TEST_P(StoreContract, EnrolledLabelsFollowEachNodesOwnAnswersAndRefusalsAreKept) {
  constexpr uint32_t kStart = tinyedge_v1_EnrollCommand_Action_START, kRemove = tinyedge_v1_EnrollCommand_Action_REMOVE;
  constexpr uint32_t kOk = tinyedge_v1_EnrollRefusal_ENROLL_OK;
  const int64_t t0 = now_ms();
  auto store = open_store();
  store->submit(enrollment("cam-1", kStart, kOk, "mug", {"mug"}, t0));
  store->submit(enrollment("cam-1", kStart, kOk, "cup", {"mug", "cup"}, t0 + 1));
  store->submit(enrollment("cam-2", kStart, kOk, "mug", {"mug"}, t0 + 2));
  store->submit(
      enrollment("cam-1", kStart, tinyedge_v1_EnrollRefusal_ENROLL_DUPLICATE_LABEL, "cup", {"mug", "cup"}, t0 + 3));
  store->submit(enrollment("cam-1", kStart, kOk, "pen", {"mug", "cup", "pen"}, t0 + 4));
  store->flush();
  auto query = open_query();
  auto labels = query->enrolled_labels("cam-1");
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[1].label, "cup");
  EXPECT_EQ(labels[1].position, 1u);
  EXPECT_EQ(labels[1].examples_used, 5u) << "a refused second start must not overwrite the class's figures";
  EXPECT_EQ(labels[1].enrolled_ms, t0 + 1);
  EXPECT_EQ(labels[1].nearest_label, "Ankle boot");
  EXPECT_EQ(labels[1].distance_q14, 9000u);
  EXPECT_EQ(labels[1].model_id, 7u);

  // Removing the middle class moves the one after it up, as in the node's table.
  store->submit(enrollment("cam-1", kRemove, kOk, "mug", {"cup", "pen"}, t0 + 5));
  store->flush();
  labels = query->enrolled_labels("cam-1");
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0].label, "cup");
  EXPECT_EQ(labels[0].position, 0u);
  EXPECT_EQ(labels[1].label, "pen");
  EXPECT_EQ(labels[1].position, 1u);
  EXPECT_EQ(labels[0].examples_used, 5u) << "a class that only moved keeps the figures of its start";

  const auto other = query->enrolled_labels("cam-2");
  ASSERT_EQ(other.size(), 1u) << "cam-1's answers must not touch cam-2's classes";
  EXPECT_EQ(other[0].label, "mug");
  EXPECT_EQ(other[0].enrolled_ms, t0 + 2);

  const auto log = query->enrollment_log("cam-1", 10);
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[0].action, kRemove) << "the log is newest first";
  EXPECT_EQ(log[2].refusal, uint32_t{tinyedge_v1_EnrollRefusal_ENROLL_DUPLICATE_LABEL});
  EXPECT_EQ(log[2].label, "cup");
  EXPECT_TRUE(query->enrolled_labels("nobody").empty());

  // A list answer with nothing enrolled empties the node's classes.
  store->submit(enrollment("cam-1", tinyedge_v1_EnrollCommand_Action_LIST, kOk, "", {}, t0 + 6));
  store->flush();
  EXPECT_TRUE(query->enrolled_labels("cam-1").empty());
  EXPECT_EQ(query->enrolled_labels("cam-2").size(), 1u);
}

// A node whose Hello this gateway never got (published before it subscribed) shows up through its
// retained state; the model its results name fills in its row. A row that knows its model keeps
// it: results resent from before an update are older news than the Hello.
TEST_P(StoreContract, ResultsFillInTheModelOfANodeWhoseHelloWasMissed) {
  auto store = open_store();
  const int64_t t0 = now_ms() - 60000;
  store->submit(StateItem{"quiet", true, t0});
  store->submit(HelloItem{"said", 1, t0, "mqtt", "host-sim", 4, 7, 5, 65536, 8192, "0102", "kws"});
  store->flush();
  store->submit(results("quiet", 1, 1, 3, t0 + 1000));  // model 7 v3
  store->submit(results("said", 1, 1, 3, t0 + 1000));
  store->flush();
  std::map<std::string, std::pair<uint32_t, uint32_t>> models;
  for (const auto& row : open_query()->nodes()) models[row.node_id] = {row.model_id, row.model_version};
  EXPECT_EQ(models["quiet"], std::make_pair(7u, 3u)) << "the row of a node heard only through its results";
  EXPECT_EQ(models["said"], std::make_pair(7u, 5u)) << "results overwrote the model the node's Hello named";
}

// #22: the drift watch's baselines. Per part (results, input), the one learnt from more stays, so a
// gateway's half-learnt baseline never replaces a formed one another gateway wrote; a forgotten
// one is gone for every gateway; the table keeps only the most recently updated rows.
TEST_P(StoreContract, DriftBaselinesKeepThePartLearntFromMoreAndAreSharedByEveryConnection) {
  auto store = open_store();  // migrates
  auto first = open_drift_baseline_store(options_);
  auto second = open_drift_baseline_store(options_);  // another gateway on the same store
  EXPECT_TRUE(first->load(10).empty());
  const int64_t t0 = now_ms();
  first->save({{7, 3, "cams", 5000, "results-5000", 12, "inputs-12", t0}, {7, 3, "", 40, "results-40", 0, "", t0}}, 10);
  // The other gateway half-learnt both parts of "cams" (fewer results, more periods).
  second->save({{7, 3, "cams", 900, "results-900", 60, "inputs-60", t0 + 5}}, 10);
  std::map<std::string, DriftBaselineRecord> rows;
  for (auto& r : second->load(10)) rows[r.group] = r;
  ASSERT_EQ(rows.size(), 2u);
  const auto& cams = rows["cams"];
  EXPECT_EQ(cams.model_id, 7u);
  EXPECT_EQ(cams.model_version, 3u);
  EXPECT_EQ(cams.results, 5000u) << "a baseline learnt from 5000 results was replaced by one of 900";
  EXPECT_EQ(cams.result_baseline, "results-5000");
  EXPECT_EQ(cams.periods, 60u) << "the input part learnt from more periods was not taken";
  EXPECT_EQ(cams.input_baseline, "inputs-60");
  EXPECT_EQ(cams.updated_ms, t0 + 5);
  EXPECT_EQ(rows[""].results, 40u);
  EXPECT_EQ(rows[""].input_baseline, "");
  // A save that adds nothing changes nothing, its time included.
  first->save({{7, 3, "cams", 5000, "other", 60, "other", t0 + 9}}, 10);
  const auto again = first->load(10);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again.front().group, "cams") << "newest first";
  EXPECT_EQ(again.front().result_baseline, "results-5000");
  EXPECT_EQ(again.front().updated_ms, t0 + 5);

  // An operator's rebaseline on one gateway: the stored baseline is gone, and learnt again from 0.
  first->forget(7, 3, "cams");
  ASSERT_EQ(second->load(10).size(), 1u);
  second->save({{7, 3, "cams", 10, "results-10", 0, "", t0 + 20}}, 10);
  std::string relearnt;
  for (const auto& r : first->load(10))
    if (r.group == "cams") relearnt = r.result_baseline;
  EXPECT_EQ(relearnt, "results-10") << "a relearnt baseline was refused";

  // Bounded: only the most recently updated rows stay.
  for (uint32_t v = 10; v < 15; ++v) first->save({{9, v, "g", 1, "r", 0, "", t0 + 100 + v}}, 3);
  const auto kept = second->load(100);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].model_version, 14u);
  EXPECT_EQ(kept[2].model_version, 12u);
  EXPECT_EQ(first->load(2).size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tinyedge::gateway

namespace tinyedge::rollout {
namespace {

class RolloutStoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres" && gateway::postgres_missing_is_fine())
      GTEST_SKIP() << "no PostgreSQL server installed";
    options_ = gateway::fresh_options(GetParam(), dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::unique_ptr<RolloutStore> open() { return gateway::open_rollout_store(options_); }

  std::string dir_;
  gateway::StoreOptions options_;
  ota::SigningKey key_ = ota::SigningKey::generate();
};

TEST_P(RolloutStoreContract, RegistryAcceptsOnlyPackagesSignedByTheFleetKey) {
  auto store = open();
  ModelRegistry registry(*store, {ota::make_trusted_key(key_.public_point())});
  auto good = ota::encode_package(testing::make_package(key_, 3, 2, 1000, {"host-sim"}));
  ModelRow row = registry.add(good, 1234);
  EXPECT_EQ(row.model_id, 3u);
  EXPECT_EQ(row.version, 2u);
  EXPECT_EQ(row.hardware, (std::vector<std::string>{"host-sim"}));
  EXPECT_EQ(registry.package(row.id).payload.size(), 1000u);

  // Another key: refused, naming the key problem, registry unchanged.
  ota::SigningKey stranger = ota::SigningKey::generate();
  auto foreign = ota::encode_package(testing::make_package(stranger, 3, 3, 1000));
  try {
    registry.add(foreign, 1);
    FAIL() << "foreign key accepted";
  } catch (const RegistryError& e) {
    EXPECT_NE(std::string(e.what()).find("does not trust"), std::string::npos) << e.what();
  }
  // A flipped payload byte: the signature still verifies, the hash does not.
  auto tampered = ota::encode_package(testing::make_package(key_, 3, 4, 1000));
  tampered.back() ^= 0x01;
  EXPECT_THROW(registry.add(tampered, 1), RegistryError);
  // A flipped signature byte.
  auto bad_sig = ota::encode_package(testing::make_package(key_, 3, 5, 1000));
  auto pkg = ota::parse_package(bad_sig);
  bad_sig[12 + pkg.manifest.size() + 10] ^= 0x40;
  EXPECT_THROW(registry.add(bad_sig, 1), RegistryError);
  // Garbage and duplicates.
  std::vector<uint8_t> junk{1, 2, 3};
  EXPECT_THROW(registry.add(junk, 1), RegistryError);
  EXPECT_THROW(registry.add(good, 1), RegistryError);
  EXPECT_EQ(registry.list().size(), 1u);
}

TEST_P(RolloutStoreContract, PreviousModelIsTheHighestLowerVersion) {
  auto store = open();
  ModelRegistry registry(*store, {ota::make_trusted_key(key_.public_point())});
  for (uint32_t v : {1u, 3u, 2u, 7u}) registry.add(ota::encode_package(testing::make_package(key_, 9, v, 100)), v);
  EXPECT_EQ(store->previous_model(9, 7)->version, 3u);
  EXPECT_EQ(store->previous_model(9, 3)->version, 2u);
  EXPECT_FALSE(store->previous_model(9, 1));
  EXPECT_FALSE(store->previous_model(10, 5));
}

TEST_P(RolloutStoreContract, RolloutAndNodesSurviveReopening) {
  RolloutRecord record;
  record.package = {1, 9, 2};
  record.previous = {0, 9, 0};
  record.target = "group:factory-a";
  record.strategy.canary = {5, true};
  record.strategy.waves = {25, 50, 100};
  record.strategy.max_failures = {2, true};
  record.strategy.soak_ms = 30000;
  record.strategy.gate.max_label_jsd = 0.2;
  std::vector<TargetNode> targets;
  for (int i = 0; i < 40; ++i) targets.push_back({"node" + std::to_string(i), i % 3 != 0, 9, 1});
  auto engine = RolloutEngine::create(record, targets, 5000);
  engine.tick(5000);
  int64_t id = 0;
  {
    auto store = open();
    ModelRegistry registry(*store, {ota::make_trusted_key(key_.public_point())});
    registry.add(ota::encode_package(testing::make_package(key_, 9, 2, 100)), 1);
    RolloutRecord r = engine.record();
    id = store->insert_rollout(r);
    r.id = id;
    std::vector<const NodeRecord*> nodes;
    for (const auto& n : engine.nodes()) nodes.push_back(&n);
    store->save(r, nodes);
    store->save(r, nodes);  // saving again replaces the node records, never duplicates them
  }
  auto store = open();
  auto loaded = store->rollout(id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->target, "group:factory-a");
  EXPECT_EQ(loaded->phase_ends, engine.record().phase_ends);
  EXPECT_EQ(loaded->deadline_at, engine.record().deadline_at);
  EXPECT_EQ(loaded->strategy.waves, (std::vector<double>{25, 50, 100}));
  EXPECT_TRUE(loaded->strategy.max_failures.percent);
  EXPECT_EQ(loaded->strategy.soak_ms, 30000);
  EXPECT_DOUBLE_EQ(loaded->strategy.gate.max_label_jsd, 0.2);
  EXPECT_EQ(loaded->previous.registry_id, 0);
  auto nodes = store->rollout_nodes(id);
  ASSERT_EQ(nodes.size(), 40u);
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NodeRecord& a = engine.nodes()[i];
    EXPECT_EQ(nodes[i].node_id, a.node_id);
    EXPECT_EQ(nodes[i].state, a.state);
    EXPECT_EQ(nodes[i].phase, a.phase);
    EXPECT_EQ(nodes[i].offered_at, a.offered_at);
  }
  EXPECT_FALSE(store->rollout(id + 1));
  RolloutRecord ghost = *loaded;
  ghost.id = 999;
  EXPECT_THROW(store->save(ghost, {}), StoreError);
}

// Which package each node was offered (a delta's base, or the full package) and its refusal of a
// delta are read back by any gateway on the store: a follower answering the node's chunk requests,
// or this one restarted mid-download. A later save overwrites both.
TEST_P(RolloutStoreContract, TheOfferedPackageAndARefusedDeltaSurviveReopening) {
  const std::string base(64, 'a');
  RolloutRecord record;
  record.package = {0, 9, 2};
  record.phase_ends = {3};
  std::vector<NodeRecord> nodes(3);
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    nodes[i].node_id = "cam-" + std::to_string(i);
    nodes[i].order = i;
    nodes[i].state = NodeState::kDownloading;
  }
  nodes[0].offered_base = base;  // on the delta's base
  nodes[1].full_only = true;     // refused the delta: the full package from now on
  int64_t id = 0;
  {
    auto store = open();
    ModelRegistry registry(*store, {ota::make_trusted_key(key_.public_point())});
    record.package.registry_id = registry.add(ota::encode_package(testing::make_package(key_, 9, 2, 100)), 1).id;
    id = store->insert_rollout(record);
    record.id = id;
    store->save(record, {&nodes[0], &nodes[1], &nodes[2]});
  }
  auto other = open();  // another gateway, or the same one restarted
  auto loaded = other->rollout_nodes(id);
  ASSERT_EQ(loaded.size(), 3u);
  EXPECT_EQ(loaded[0].offered_base, base) << "the delta offered to cam-0 was not stored";
  EXPECT_FALSE(loaded[0].full_only);
  EXPECT_EQ(loaded[1].offered_base, "");
  EXPECT_TRUE(loaded[1].full_only) << "cam-1's refusal of the delta was not stored";
  EXPECT_EQ(loaded[2].offered_base, "");
  EXPECT_FALSE(loaded[2].full_only);
  nodes[0].offered_base.clear();  // offered the full package next
  other->save(record, {&nodes[0]});
  loaded = open()->rollout_nodes(id);
  EXPECT_EQ(loaded[0].offered_base, "") << "a later offer of the full package did not replace the delta";
  EXPECT_TRUE(loaded[1].full_only);
}

TEST_P(RolloutStoreContract, UnopenableDatabaseIsAClearError) {
  if (GetParam() == "sqlite") {
    options_.path = dir_ + "/missing-dir/x.db";
  } else {
    options_.url = gateway::postgres()->url("no_such_database");
  }
  try {
    open();
    FAIL() << "opened a database that cannot exist";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.find("cannot open") != std::string::npos || what.find("cannot connect") != std::string::npos)
        << what;
  }
}

// The leader's mailbox: what a gateway that does not lead posts, the leader takes once, in order,
// even when two gateways take at the same time. SQLite has none (its one gateway always leads).
TEST_P(RolloutStoreContract, MailboxHandsCommandsAndUplinksToOneTakerInOrder) {
  auto follower = open();
  if (GetParam() == "sqlite") {
    EXPECT_EQ(follower->mailbox(), nullptr) << "one gateway per SQLite file needs no mailbox";
    return;
  }
  ASSERT_NE(follower->mailbox(), nullptr);
  auto leader = open();
  auto other = open();
  RolloutRecord record;
  record.package = {0, 9, 2};
  ModelRegistry registry(*follower, {ota::make_trusted_key(key_.public_point())});
  record.package.registry_id = registry.add(ota::encode_package(testing::make_package(key_, 9, 2, 100)), 1).id;
  record.phase_ends = {1};
  const int64_t id = follower->insert_rollout(record);
  follower->mailbox()->post_command({id, RolloutCommand::Kind::kPause, {}});
  follower->mailbox()->post_command({id, RolloutCommand::Kind::kAbortRollback, {}});
  follower->mailbox()->post_command({id, RolloutCommand::Kind::kCancelNode, "cam-7"});
  for (uint8_t i = 0; i < 5; ++i) follower->mailbox()->forward_uplink({"n" + std::to_string(i), {i, 0xff}, 100 + i});

  RolloutMail first = leader->mailbox()->take_mail(3);
  RolloutMail second = other->mailbox()->take_mail(100);
  RolloutMail third = leader->mailbox()->take_mail(100);
  ASSERT_EQ(first.commands.size(), 3u);
  EXPECT_EQ(first.commands[0].rollout_id, id);
  EXPECT_EQ(first.commands[0].kind, RolloutCommand::Kind::kPause);
  EXPECT_EQ(first.commands[1].kind, RolloutCommand::Kind::kAbortRollback);
  EXPECT_EQ(first.commands[2].kind, RolloutCommand::Kind::kCancelNode);
  EXPECT_EQ(first.commands[2].node_id, "cam-7") << "a per-node cancel must name its node to the leader";
  ASSERT_EQ(first.uplinks.size(), 3u) << "at most max_uplinks per take";
  ASSERT_EQ(second.uplinks.size(), 2u);
  EXPECT_TRUE(second.commands.empty()) << "a command taken twice";
  EXPECT_TRUE(third.uplinks.empty() && third.commands.empty()) << "mail taken twice";
  for (uint8_t i = 0; i < 5; ++i) {
    const ForwardedUplink& u = i < 3 ? first.uplinks[i] : second.uplinks[i - 3];
    EXPECT_EQ(u.node_id, "n" + std::to_string(i));
    EXPECT_EQ(u.uplink, (std::vector<uint8_t>{i, 0xff}));
    EXPECT_EQ(u.received_ms, 100 + i);
  }
}

// Two gateways on one PostgreSQL: the leader offers the nodes on the delta's base the delta, and
// their chunk requests all reach the follower (MQTT's shared subscription hands a node's uplinks to
// either gateway). The follower serves the delta's chunks, as the offer stored with the node says;
// each node installs by the delta and verifies it. (The follower used to answer with the full
// package's bytes, so with a shared store no delta was ever offered.) SQLite: one gateway per
// file; its restart mid-delta is DeltaRollout.AGatewayRestartedMidDeltaServesTheRestOfTheDelta.
TEST_P(RolloutStoreContract, AChunkRequestReachingAnotherGatewayGetsTheDeltaTheNodeWasOffered) {
  if (GetParam() == "sqlite") GTEST_SKIP() << "one gateway per SQLite file";
  using testing::SimFleet;
  const ota::Package v1 = testing::sim_package(key_, 1, 6000);
  const ota::Package v3 = testing::payload_package(key_, 3, testing::head_changed(v1, 1));
  const ota::Package delta = testing::payload_package(key_, 3, v3.payload, v1.payload);
  ASSERT_LT(delta.payload.size() * 4, v3.payload.size()) << "the test needs a delta much smaller than the model";
  SimFleet fleet(key_, v1, 3);
  TimeMs now = 1'000'000;
  RolloutServiceConfig config;
  config.fleet_poll_ms = 50;
  struct Gateway {
    std::unique_ptr<RolloutStore> store;
    std::unique_ptr<ModelRegistry> registry;
    std::unique_ptr<RolloutService> service;
    std::vector<std::string> log;
  };
  Gateway leader, follower;
  for (Gateway* g : {&leader, &follower}) {
    g->store = open();
    g->registry = std::make_unique<ModelRegistry>(*g->store, std::vector{ota::make_trusted_key(key_.public_point())});
    g->service = std::make_unique<RolloutService>(
        *g->store, *g->registry, fleet, config, [&now] { return now; }, std::nullopt,
        [g](const std::string& line) { g->log.push_back(line); });
  }
  leader.service->set_leading(true);
  for (const ota::Package* p : {&v1, &v3, &delta}) follower.service->upload_model(ota::encode_package(*p));
  RolloutRequest r;
  r.model_id = 21;
  r.version = 3;
  r.node_timeout = "20s";
  r.gate.enabled = false;
  const int64_t id = follower.service->start(r).record.id;  // stored by the follower, run by the leader
  auto stopped = [&] {
    const RolloutState s = leader.service->get(id, false).record.state;
    return s != RolloutState::kRunning && s != RolloutState::kRollingBack;
  };
  for (const TimeMs end = now + 60000; !stopped() && now < end;) {
    now += 10;
    leader.service->run_once();
    follower.service->run_once();
    fleet.step(*leader.service, static_cast<uint32_t>(now), follower.service.get());
  }
  const RolloutView view = leader.service->get(id, true);
  ASSERT_EQ(view.record.state, RolloutState::kCompleted) << view.record.reason;
  const auto served = follower.service->all_wire_stats();
  const auto offered = leader.service->all_wire_stats();
  for (auto& [node_id, node] : fleet.all()) {
    EXPECT_EQ(node->version(), 3u) << node_id;
    ASSERT_TRUE(served.count(node_id)) << "the follower served " << node_id << " nothing";
    EXPECT_EQ(served.at(node_id).chunk_payload_bytes, delta.payload.size())
        << node_id << " was served other bytes than the delta (full package: " << v3.payload.size() << ")";
    EXPECT_EQ(offered.at(node_id).offers, 1u) << node_id;
    EXPECT_EQ(offered.at(node_id).chunk_payload_bytes, 0u) << "the leader answered a chunk request it never got";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, RolloutStoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tinyedge::rollout
