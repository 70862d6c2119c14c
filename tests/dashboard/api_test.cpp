// The REST API against a real gateway database of TINYEDGE_API_EVENTS events (200,000 in the
// unit run, 1,000,000 in the integration run): every filter combination returns exactly the rows
// a direct SQL query returns, and pagination returns every row once, even while events arrive.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "deploy/fleet/api_client.h"
#include "tests/dashboard/api_fixture.h"
#include "tests/dashboard/fleet_db.h"
#include "tests/dashboard/raw_http.h"

#ifndef TINYEDGE_API_EVENTS
#define TINYEDGE_API_EVENTS 200000
#endif

namespace tinyedge::dashboard {
namespace {

using namespace testing;
using nlohmann::json;

constexpr int64_t kEnd = 1795600800000;  // 2026-11-25T10:00:00Z: fixed so filters are reproducible

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_path_ = new std::string(temp_db_path("api"));
    FleetSpec spec;
    spec.events = TINYEDGE_API_EVENTS;
    spec.end_ms = kEnd;
    const auto t0 = std::chrono::steady_clock::now();
    copy_of_cached_fleet_db(*db_path_, spec, TINYEDGE_FLEET_DB_CACHE);
    std::printf("built or copied %zu events in %.1f s\n", spec.events,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    ServerLimits limits;
    limits.rate_per_client = 0;
    server_ = new ApiServer(*db_path_, limits);
    sqlite3_open_v2(db_path_->c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
  }
  static void TearDownTestSuite() {
    sqlite3_close(db_);
    delete server_;
    std::filesystem::remove_all(std::filesystem::path(*db_path_).parent_path());
    delete db_path_;
  }

  static fleet::ApiClient viewer() { return fleet::ApiClient(server_->url(), kViewerToken); }

  // Ids newest first from SQL, the ground truth.
  static std::vector<int64_t> sql_ids(const std::string& where, const std::vector<std::string>& binds) {
    const std::string sql = "SELECT e.id FROM events e WHERE 1" + where + " ORDER BY e.id DESC";
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    for (size_t i = 0; i < binds.size(); ++i) sqlite3_bind_text(st, int(i + 1), binds[i].c_str(), -1, SQLITE_TRANSIENT);
    std::vector<int64_t> ids;
    while (sqlite3_step(st) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    return ids;
  }
  static int64_t sql_count_where(const std::string& where, const std::vector<std::string>& binds) {
    const std::string sql = "SELECT count(*) FROM events e WHERE 1" + where;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    for (size_t i = 0; i < binds.size(); ++i) sqlite3_bind_text(st, int(i + 1), binds[i].c_str(), -1, SQLITE_TRANSIENT);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
  }
  static int64_t sql_count(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
  }

  // Pages through /events as CSV (compact) and returns the ids in the order served.
  static std::vector<int64_t> fetch_all_ids(fleet::ApiClient& c, const std::string& query, size_t limit) {
    std::vector<int64_t> ids;
    std::string cursor;
    for (int pages = 0; pages < 100000; ++pages) {
      auto r = c.get("/api/v1/events?format=csv&limit=" + std::to_string(limit) + query + cursor);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      std::istringstream in(r.body);
      std::string line;
      std::getline(in, line);  // header
      EXPECT_EQ(line.rfind("id,node,", 0), 0u);
      while (std::getline(in, line))
        if (!line.empty()) ids.push_back(std::stoll(line));
      const std::string next = r.header("X-Next-Cursor");
      if (next.empty()) break;
      cursor = "&cursor=" + next;
    }
    return ids;
  }

  static std::string* db_path_;
  static ApiServer* server_;
  static sqlite3* db_;
};

std::string* ApiTest::db_path_ = nullptr;
ApiServer* ApiTest::server_ = nullptr;
sqlite3* ApiTest::db_ = nullptr;

TEST_F(ApiTest, EveryFilterCombinationReturnsExactlyTheMatchingRows) {
  // Six filters, all 64 combinations; values chosen so each one actually removes rows.
  struct Filter {
    std::string query, where, bind;
  };
  const int64_t since = kEnd - 86'400'000 / 2, until = kEnd - 86'400'000 / 4;
  const std::vector<Filter> filters = {
      {"&node=node-007", " AND e.node_ref = (SELECT id FROM nodes WHERE node_id = ?)", "node-007"},
      {"&group=g3", " AND e.node_ref IN (SELECT node_ref FROM node_groups WHERE group_name = ?)", "g3"},
      {"&label=4", " AND e.label = 4", ""},
      {"&min_score=200", " AND e.score >= 200", ""},
      {"&since=" + std::to_string(since), " AND e.at_ms >= " + std::to_string(since), ""},
      {"&until=2026-11-25T04:00:00Z", " AND e.at_ms < " + std::to_string(until), ""},
  };
  ASSERT_EQ(until, kEnd - 6 * 3'600'000);
  auto c = viewer();
  size_t total_rows = 0;
  for (int mask = 0; mask < 64; ++mask) {
    std::string query, where;
    std::vector<std::string> binds;
    for (size_t i = 0; i < filters.size(); ++i) {
      if (!(mask & (1 << i))) continue;
      query += filters[i].query;
      where += filters[i].where;
      if (!filters[i].bind.empty()) binds.push_back(filters[i].bind);
    }
    const auto expected = sql_ids(where, binds);
    const auto served = fetch_all_ids(c, query, 5000);
    ASSERT_EQ(served.size(), expected.size()) << "filters " << query;
    ASSERT_EQ(served, expected) << "filters " << query << ": rows differ from SQL";
    EXPECT_EQ(static_cast<int64_t>(served.size()), sql_count_where(where, binds)) << "filters " << query;
    total_rows += served.size();
  }
  EXPECT_GT(total_rows, static_cast<size_t>(TINYEDGE_API_EVENTS));
}

TEST_F(ApiTest, NodeAndItsOwnGroupTogetherMatchSql) {
  // node-007 is not in g3 (the combinations above); node-008 is: both answers must be SQL's.
  auto c = viewer();
  const std::string node = " AND e.node_ref = (SELECT id FROM nodes WHERE node_id = ?)";
  const std::string group = " AND e.node_ref IN (SELECT node_ref FROM node_groups WHERE group_name = ?)";
  for (const std::string& extra : {std::string(), std::string("&label=4"), std::string("&min_score=200")}) {
    const std::string where = node + group + (extra == "&label=4" ? " AND e.label = 4" : extra.empty() ? "" : " AND e.score >= 200");
    const auto expected = sql_ids(where, {"node-008", "g3"});
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(fetch_all_ids(c, "&node=node-008&group=g3" + extra, 5000), expected) << extra;
    EXPECT_TRUE(fetch_all_ids(c, "&node=node-008&group=g2" + extra, 5000).empty()) << extra;
  }
}

TEST_F(ApiTest, JsonPaginationReturnsEveryRowOnceNewestFirst) {
  auto c = viewer();
  std::set<int64_t> seen;
  int64_t previous = INT64_MAX;
  std::string cursor;
  size_t pages = 0;
  for (;;) {
    auto r = c.get("/api/v1/events?limit=5000" + cursor);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = json::parse(r.body);
    for (const auto& e : j["events"]) {
      const int64_t id = e["id"];
      ASSERT_LT(id, previous) << "not strictly newest first";
      previous = id;
      ASSERT_TRUE(seen.insert(id).second) << "event " << id << " served twice";
    }
    ++pages;
    if (j["next_cursor"].is_null()) break;
    cursor = "&cursor=" + std::to_string(j["next_cursor"].get<int64_t>());
  }
  EXPECT_EQ(static_cast<int64_t>(seen.size()), sql_count("SELECT count(*) FROM events"));
  EXPECT_EQ(pages, (seen.size() + 4999) / 5000);
}

TEST_F(ApiTest, CursorStaysCorrectWhileNewEventsArrive) {
  auto c = viewer();
  const auto before = sql_ids(" AND e.node_ref = (SELECT id FROM nodes WHERE node_id = 'node-011')", {});
  auto first = c.get("/api/v1/events?node=node-011&limit=100");
  ASSERT_EQ(first.status, 200);
  auto page = json::parse(first.body);
  std::vector<int64_t> ids;
  for (const auto& e : page["events"]) ids.push_back(e["id"]);
  // A burst arrives between pages.
  const int64_t newest = append_events(*db_path_, "node-011", 250, kEnd + 1000);
  std::string cursor = "&cursor=" + std::to_string(page["next_cursor"].get<int64_t>());
  for (;;) {
    auto r = c.get("/api/v1/events?node=node-011&limit=1000" + cursor);
    ASSERT_EQ(r.status, 200);
    auto j = json::parse(r.body);
    for (const auto& e : j["events"]) ids.push_back(e["id"]);
    if (j["next_cursor"].is_null()) break;
    cursor = "&cursor=" + std::to_string(j["next_cursor"].get<int64_t>());
  }
  EXPECT_EQ(ids, before) << "the pages after the first must be exactly the rows that existed";
  auto fresh = json::parse(c.get("/api/v1/events?node=node-011&limit=1").body);
  EXPECT_EQ(fresh["events"][0]["id"], newest);
}

TEST_F(ApiTest, EventJsonCarriesTheStoredFields) {
  auto c = viewer();
  auto r = c.get("/api/v1/events?node=node-003&limit=1");
  ASSERT_EQ(r.status, 200);
  auto e = json::parse(r.body)["events"][0];
  const int64_t id = e["id"];
  EXPECT_EQ(e["node"], "node-003");
  EXPECT_EQ(e["score"].get<int64_t>(), sql_count("SELECT score FROM events WHERE id = " + std::to_string(id)));
  EXPECT_EQ(e["at_ms"].get<int64_t>(), sql_count("SELECT at_ms FROM events WHERE id = " + std::to_string(id)));
  ASSERT_EQ(e["runners_up"].size(), 1u);
  EXPECT_EQ(e["runners_up"][0]["label"].get<int64_t>(), (e["label"].get<int64_t>() + 1) % 10);
  EXPECT_EQ(e["at"].get<std::string>().size(), 24u);
}

TEST_F(ApiTest, NodeListFiltersMatchTheFleet) {
  auto c = viewer();
  auto all = json::parse(c.get("/api/v1/nodes").body);
  EXPECT_EQ(all["count"], 50);
  auto g1 = json::parse(c.get("/api/v1/nodes?group=g1").body);
  EXPECT_EQ(g1["count"], 10);
  for (const auto& n : g1["nodes"]) EXPECT_EQ(std::stoi(n["id"].get<std::string>().substr(5)) % 5, 1);
  auto offline = json::parse(c.get("/api/v1/nodes?status=offline").body);
  EXPECT_EQ(offline["count"].get<int64_t>(), sql_count("SELECT count(*) FROM nodes WHERE online = 0"));
  auto v2 = json::parse(c.get("/api/v1/nodes?model_version=2&tag=all").body);
  EXPECT_EQ(v2["count"], 25);
  auto one = c.get("/api/v1/nodes/node-004");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(json::parse(one.body)["groups"], json({"all", "g4"}));
  EXPECT_EQ(c.get("/api/v1/nodes/node-999").status, 404);
}

// A 10,000-node fleet is paged to the page: pages of `limit` from `offset` are the full list in
// order, while count and online still cover every match.
TEST_F(ApiTest, NodeListPagesWithLimitAndOffset) {
  auto c = viewer();
  const auto all = json::parse(c.get("/api/v1/nodes?group=g2").body);
  json paged = json::array();
  std::optional<int64_t> offset = 0;
  int pages = 0;
  while (offset && pages++ < 10) {
    const auto r = c.get("/api/v1/nodes?group=g2&limit=3&offset=" + std::to_string(*offset));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto page = json::parse(r.body);
    EXPECT_EQ(page["count"], all["count"]) << "count must cover every match, not the page";
    EXPECT_EQ(page["online"], all["online"]);
    EXPECT_LE(page["nodes"].size(), 3u);
    for (const auto& n : page["nodes"]) paged.push_back(n["id"]);
    offset = page["next_offset"].is_null() ? std::nullopt : std::optional<int64_t>(page["next_offset"].get<int64_t>());
  }
  json ids = json::array();
  for (const auto& n : all["nodes"]) ids.push_back(n["id"]);
  EXPECT_EQ(paged, ids) << "the pages together are not the whole list in order";
  EXPECT_EQ(pages, 4) << "10 nodes in pages of 3";
  EXPECT_EQ(json::parse(c.get("/api/v1/nodes?limit=5&offset=100").body)["nodes"].size(), 0u);
  for (const char* bad : {"/api/v1/nodes?limit=0", "/api/v1/nodes?offset=-1"}) {
    const auto r = c.get(bad);
    EXPECT_EQ(r.status, 400) << bad;
  }
}

// A node's Telemetry and OtaStatus messages come back newest first, with states and reasons by name.
TEST_F(ApiTest, NodeTelemetryAndOtaHistoryNewestFirst) {
  sqlite3* rw = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_->c_str(), &rw), SQLITE_OK);
  sqlite3_busy_timeout(rw, 5000);
  const char* sql =
      "INSERT INTO telemetry (node_ref, boot_id, received_ms, uptime_s, inferences, free_ram_bytes, last_latency_us, "
      "dropped_results, pending_results, reconnects, failed_inferences) SELECT id, b, t, 60, 100, 9000, 1500, 0, 0, r, f "
      "FROM nodes, (SELECT 1 AS b, 1000 AS t, 0 AS r, 1 AS f UNION ALL SELECT 2, 3000, 2, 3 UNION ALL SELECT 2, 2000, 1, 0) "
      "WHERE node_id = 'node-004';"
      "INSERT INTO ota_status (node_ref, boot_id, received_ms, model_id, version, state, reason, bytes_written, "
      "total_bytes, active_version) SELECT id, 2, t, 7, 2, s, r, w, 4096, 1 FROM nodes, (SELECT 4000 AS t, 2 AS s, "
      "0 AS r, 1024 AS w UNION ALL SELECT 5000, 6, 9, 4096) WHERE node_id = 'node-004';";
  ASSERT_EQ(sqlite3_exec(rw, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(rw);
  sqlite3_close(rw);
  auto c = viewer();
  auto r = c.get("/api/v1/nodes/node-004/telemetry");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto t = json::parse(r.body)["telemetry"];
  ASSERT_EQ(t.size(), 3u) << r.body;
  EXPECT_EQ(t[0]["received_ms"], 3000);
  EXPECT_EQ(t[0]["failed_inferences"], 3);
  EXPECT_EQ(t[0]["reconnects"], 2);
  EXPECT_EQ(t[2]["boot_id"], 1);
  EXPECT_EQ(json::parse(c.get("/api/v1/nodes/node-004/telemetry?limit=1").body)["telemetry"].size(), 1u);
  EXPECT_EQ(json::parse(c.get("/api/v1/nodes/node-005/telemetry").body)["telemetry"].size(), 0u);
  r = c.get("/api/v1/nodes/node-004/ota");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto o = json::parse(r.body)["ota"];
  ASSERT_EQ(o.size(), 2u) << r.body;
  EXPECT_EQ(o[0]["state"], "failed");
  EXPECT_EQ(o[0]["reason"], "hash_mismatch");
  EXPECT_EQ(o[1]["state"], "downloading");
  EXPECT_EQ(o[1]["bytes_written"], 1024);
  for (const char* unknown : {"/api/v1/nodes/node-999/telemetry", "/api/v1/nodes/node-999/ota"}) {
    r = c.get(unknown);
    EXPECT_EQ(r.status, 404) << unknown;
    EXPECT_NE(r.body.find("node-999"), std::string::npos) << r.body;
  }
}

// Fleet-wide buckets of whole minutes lie on multiples of the bucket, so the store reads its
// per-minute rollup; the counts are still exactly those of the window asked for, whose ends are
// not on a minute.
TEST_F(ApiTest, FleetLabelStatsCountTheWindowAskedForOnTheBucketGrid) {
  auto c = viewer();
  const int64_t until = kEnd - 3'600'000 - 1234;  // not on a minute
  auto r = c.get("/api/v1/stats/labels?window=6h&bucket=30m&until=" + std::to_string(until));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  const int64_t from = j["from_ms"].get<int64_t>();
  EXPECT_EQ(from, until - 6 * 3'600'000) << "the window was moved";
  for (const auto& b : j["buckets"])
    EXPECT_EQ(b["bucket_start_ms"].get<int64_t>() % 1'800'000, 0) << "a bucket off the 30 min grid: " << b.dump();
  const std::string window = " AND at_ms >= " + std::to_string(from) + " AND at_ms < " + std::to_string(until);
  ASSERT_FALSE(j["totals"].empty());
  for (const auto& t : j["totals"])
    EXPECT_EQ(t["count"].get<int64_t>(), sql_count("SELECT count(*) FROM events WHERE label = " +
                                                   std::to_string(t["label"].get<int>()) + window));
}

TEST_F(ApiTest, LabelStatsCountWhatSqlCounts) {
  auto c = viewer();
  const int64_t until = kEnd - 3'600'000;
  auto r = c.get("/api/v1/stats/labels?window=6h&bucket=30m&group=g2&until=" + std::to_string(until));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["bucket_ms"], 1'800'000);
  const std::string window = " AND at_ms >= " + std::to_string(until - 6 * 3'600'000) + " AND at_ms < " +
                             std::to_string(until) +
                             " AND node_ref IN (SELECT node_ref FROM node_groups WHERE group_name = 'g2')";
  for (const auto& t : j["totals"])
    EXPECT_EQ(t["count"].get<int64_t>(), sql_count("SELECT count(*) FROM events WHERE label = " +
                                                   std::to_string(t["label"].get<int>()) + window));
  EXPECT_EQ(j["totals"].size(), 10u);
  for (const auto& b : j["buckets"]) {
    int64_t sum = 0;
    for (const auto& h : b["score_histogram"]) sum += h.get<int64_t>();
    EXPECT_EQ(sum, b["count"].get<int64_t>());
  }
  EXPECT_EQ(c.get("/api/v1/stats/labels?window=7d&bucket=1s").status, 400);
  EXPECT_EQ(c.get("/api/v1/stats/labels?node=node-001&group=g1").status, 400);
}

TEST_F(ApiTest, LatencyPercentilesPerModelVersion) {
  auto c = viewer();
  auto j = json::parse(c.get("/api/v1/stats/latency?window=2d&until=" + std::to_string(kEnd + 1)).body);
  ASSERT_EQ(j["models"].size(), 2u);
  int64_t total = 0;
  for (const auto& m : j["models"]) {
    total += m["count"].get<int64_t>();
    EXPECT_LE(m["p50_us"], m["p90_us"]);
    EXPECT_LE(m["p90_us"], m["p99_us"]);
    EXPECT_LE(m["p99_us"], m["max_us"]);
    EXPECT_GE(m["p50_us"].get<int>(), 800);
  }
  EXPECT_EQ(total, sql_count("SELECT count(*) FROM events WHERE at_ms < " + std::to_string(kEnd + 1)));
}

TEST_F(ApiTest, RolesAndGroupChanges) {
  fleet::ApiClient anon(server_->url(), "");
  auto r = anon.get("/api/v1/events?limit=1");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "unauthorized");
  auto v = viewer();
  const std::string body = R"({"groups":["lab","north"]})";
  EXPECT_EQ(v.request("PUT", "/api/v1/nodes/node-001/groups", body).status, 403);
  fleet::ApiClient op(server_->url(), kOperatorToken);
  auto ok = op.request("PUT", "/api/v1/nodes/node-001/groups", body);
  ASSERT_EQ(ok.status, 200) << ok.body;
  {
    std::lock_guard lock(server_->mutex);
    ASSERT_FALSE(server_->groups_set.empty());
    EXPECT_EQ(server_->groups_set.back().node_id, "node-001");
    EXPECT_EQ(server_->groups_set.back().groups, (std::vector<std::string>{"lab", "north"}));
  }
  EXPECT_EQ(op.request("PUT", "/api/v1/nodes/node-001/groups", R"({"groups":"lab"})").status, 400);
  EXPECT_EQ(op.request("PUT", "/api/v1/nodes/node-001/groups", R"({"groups":["a b"]})").status, 400);
  EXPECT_EQ(op.request("PUT", "/api/v1/nodes/node-999/groups", body).status, 404);
}

TEST_F(ApiTest, EveryBadParameterIsA400NamingIt) {
  auto c = viewer();
  const std::pair<const char*, const char*> cases[] = {
      {"/api/v1/events?limit=0", "'limit'"},          {"/api/v1/events?limit=abc", "'limit'"},
      {"/api/v1/events?min_score=256", "'min_score'"}, {"/api/v1/events?node=a%20b", "'node'"},
      {"/api/v1/events?since=tomorrow", "'since'"},    {"/api/v1/events?cursor=-1", "'cursor'"},
      {"/api/v1/events?format=xml", "'format'"},       {"/api/v1/events?nodee=x", "'nodee'"},
      {"/api/v1/events?since=2000&until=1000", "'until'"}, {"/api/v1/stats/labels?window=1y", "'window'"},
      {"/api/v1/nodes?status=maybe", "'status'"},      {"/api/v1/rollouts/abc", "'id'"},
  };
  for (const auto& [target, name] : cases) {
    auto r = c.get(target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_NE(r.body.find(name), std::string::npos) << target << " -> " << r.body;
  }
}

TEST_F(ApiTest, OpenApiDocumentMatchesWhatIsServed) {
  fleet::ApiClient anon(server_->url(), "");
  auto r = anon.get("/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  auto doc = json::parse(r.body);
  fleet::ApiClient op(server_->url(), kOperatorToken);
  size_t operations = 0;
  for (const auto& [path, methods] : doc["paths"].items()) {
    for (const auto& [method, operation] : methods.items()) {
      std::string target = path;
      for (auto pos = target.find("{id}"); pos != std::string::npos; pos = target.find("{id}"))
        target.replace(pos, 4, path.find("/nodes/") != std::string::npos ? "node-001" : "1");
      std::string upper = method;
      for (auto& ch : upper) ch = static_cast<char>(std::toupper(ch));
      if (operation["responses"]["200"]["content"].contains("text/event-stream")) {
        // A live response stays open: its header is all there is to read.
        ++operations;
        for (const std::string& token : {kOperatorToken, std::string()}) {
          testing::RawConnection live(server_->port);
          ASSERT_TRUE(live.send(upper + " " + target + " HTTP/1.1\r\nHost: x\r\n" +
                                (token.empty() ? "" : "Authorization: Bearer " + token + "\r\n") + "\r\n"));
          EXPECT_EQ(testing::RawConnection::status_of(live.read(std::chrono::seconds(5))), token.empty() ? 401 : 200) << target;
        }
        continue;
      }
      auto res = op.request(upper, target, upper == "GET" ? "" : "{}");
      ++operations;
      EXPECT_NE(res.status, 405) << upper << " " << target << " is documented but not served";
      if (res.status == 404) {
        EXPECT_EQ(res.body.find("no such resource"), std::string::npos) << upper << " " << target;
      }
      // Anonymous callers are refused exactly where the document says a role is needed.
      auto anon_res = anon.request(upper, target, upper == "GET" ? "" : "{}");
      if (operation["x-required-role"] == "public") {
        EXPECT_NE(anon_res.status, 401) << target;
      } else {
        EXPECT_EQ(anon_res.status, 401) << upper << " " << target;
      }
    }
  }
  // Every served route is in the document (the router is the one table both come from).
  size_t served = 0;
  for (const auto& route : server_->api->router().routes()) {
    std::string m = to_string(route.method);
    for (auto& ch : m) ch = static_cast<char>(std::tolower(ch));
    EXPECT_TRUE(doc["paths"].contains(route.pattern) && doc["paths"][route.pattern].contains(m))
        << route.pattern << " is served but not documented";
    ++served;
  }
  EXPECT_EQ(served, operations);
  EXPECT_GE(operations, 15u);
  // And an undocumented path is not served.
  EXPECT_EQ(op.get("/api/v1/secret").status, 404);
}

TEST_F(ApiTest, MetricsAndHealth) {
  server_->gateway_metrics.events_stored.add(1234);
  auto c = viewer();
  auto m = c.get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(m.body.find("tinyedge_events_stored_total 1234\n"), std::string::npos);
  EXPECT_NE(m.body.find("# TYPE tinyedge_http_requests_total counter"), std::string::npos);
  EXPECT_EQ(fleet::ApiClient(server_->url(), "").get("/metrics").status, 401);
  auto h = fleet::ApiClient(server_->url(), "").get("/healthz");
  ASSERT_EQ(h.status, 200);
  EXPECT_EQ(json::parse(h.body)["status"], "ok");
}

// The store out of reach (here: a database path that cannot be opened, as a PostgreSQL server
// that is down): /healthz answers from the writer's gauges, 503 with the fault by name, instead of
// failing on the event count with a 500.
TEST(Health, StoreOutOfReachIs503WithTheFaultNamedNot500) {
  const auto unopenable = std::filesystem::path(temp_db_path("health-missing")).parent_path() / "no-such-dir" / "x.db";
  ApiServer server(unopenable.string());
  fleet::ApiClient anon(server.url(), "");
  server.gateway_metrics.store_unavailable.set(1);
  auto h = anon.get("/healthz");
  EXPECT_EQ(h.status, 503) << "store unavailable: " << h.body;
  EXPECT_EQ(json::parse(h.body)["status"], "store_unavailable") << h.body;
  server.gateway_metrics.store_unavailable.set(0);
  server.gateway_metrics.store_disk_full.set(1);
  h = anon.get("/healthz");
  EXPECT_EQ(h.status, 503) << "disk full: " << h.body;
  EXPECT_EQ(json::parse(h.body)["status"], "disk_full") << h.body;
  // No gauge up, yet the store cannot be read: still 503 naming it, never a bare 500.
  server.gateway_metrics.store_disk_full.set(0);
  h = anon.get("/healthz");
  EXPECT_EQ(h.status, 503) << "unreadable store: " << h.body;
  EXPECT_EQ(json::parse(h.body)["status"], "store_unavailable") << h.body;
}

TEST_F(ApiTest, DashboardPageIsServedAtTheRoot) {
  fleet::ApiClient anon(server_->url(), "");
  auto r = anon.get("/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<title>TinyEdge"), std::string::npos);
  EXPECT_EQ(anon.get("/app.js").status, 200);
  EXPECT_EQ(anon.get("/missing.js").status, 404);
}

TEST_F(ApiTest, RolloutRoutesSay503WithoutAnEngine) {
  fleet::ApiClient op(server_->url(), kOperatorToken);
  auto r = op.get("/api/v1/rollouts");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("rollout engine"), std::string::npos);
}

}  // namespace
}  // namespace tinyedge::dashboard
