// The fleet view over a store that holds text which is not UTF-8: a store written by older
// gateways kept node strings as nodes sent them (FF FE in a hardware column), and a file can be
// edited by hand. Every view answers 200 with valid JSON (bad bytes shown as U+FFFD) and the
// other nodes intact; the CSV export stays one row per event.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "deploy/fleet/api_client.h"
#include "gateway/store/sqlite/database.h"
#include "tests/dashboard/api_fixture.h"
#include "tests/dashboard/fleet_db.h"

namespace tinyedge::dashboard {
namespace {

using namespace testing;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD
// A node id no gateway would accept, written straight into the file: a comma and a stray byte.
const std::string kBadNode = "bad,\xFF";

class StoreTextTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_path_ = new std::string(temp_db_path("store-text"));
    FleetSpec spec;
    spec.nodes = 6;
    spec.events = 600;
    build_fleet_db(*db_path_, spec);
    {
      gateway::sql::Database db(*db_path_, gateway::sql::Database::Mode::kReadWrite);
      db.exec(
          "UPDATE nodes SET hardware = CAST(X'FFFE' AS TEXT), model_name = CAST(X'6B7773C3' AS TEXT), "
          "bearer = CAST(X'6D7174749F' AS TEXT) WHERE node_id = '" +
          node_name(0) + "'");
      db.exec(
          "INSERT INTO nodes(node_id, hardware, first_seen_ms, last_seen_ms, online) "
          "VALUES(CAST(X'6261642CFF' AS TEXT), CAST(X'C0AF' AS TEXT), 1, 1, 1)");
      db.exec(
          "INSERT INTO node_groups(node_ref, group_name) SELECT id, CAST(X'67FF' AS TEXT) FROM nodes "
          "WHERE node_id = '" +
          node_name(1) + "'");
    }
    append_events(*db_path_, kBadNode, 3, 1'700'000'000'000);
    server_ = new ApiServer(*db_path_);
  }
  static void TearDownTestSuite() {
    delete server_;
    std::filesystem::remove_all(std::filesystem::path(*db_path_).parent_path());
    delete db_path_;
  }

  static json get_json(const std::string& target) {
    fleet::ApiClient api(server_->url(), kViewerToken, 5s);
    const auto r = api.get(target);
    EXPECT_EQ(r.status, 200) << target << " must not fail the whole view for one node's text: " << r.body;
    try {
      return json::parse(r.body);  // nlohmann refuses invalid UTF-8 when parsing
    } catch (const json::exception& e) {
      ADD_FAILURE() << target << " answered text that is not valid JSON/UTF-8: " << e.what();
      return json();
    }
  }

  static std::string* db_path_;
  static ApiServer* server_;
};

std::string* StoreTextTest::db_path_ = nullptr;
ApiServer* StoreTextTest::server_ = nullptr;

TEST_F(StoreTextTest, NodesListShowsEveryNodeWithBadBytesReplaced) {
  const json body = get_json("/api/v1/nodes");
  ASSERT_TRUE(body.contains("nodes"));
  EXPECT_EQ(body["nodes"].size(), 7u) << "every node stays listed, the damaged ones too";
  std::map<std::string, json> by_id;
  for (const auto& n : body["nodes"]) by_id[n["id"].get<std::string>()] = n;
  ASSERT_TRUE(by_id.count(node_name(0)));
  EXPECT_EQ(by_id[node_name(0)]["hardware"], kReplacement + kReplacement);
  EXPECT_EQ(by_id[node_name(0)]["model_name"], "kws" + kReplacement);
  EXPECT_EQ(by_id[node_name(0)]["bearer"], "mqtt" + kReplacement);
  EXPECT_TRUE(by_id.count("bad," + kReplacement)) << body.dump(1);
  for (size_t i = 2; i < 6; ++i) EXPECT_TRUE(by_id.count(node_name(i))) << node_name(i);
}

TEST_F(StoreTextTest, EveryOtherViewAnswers) {
  const json node = get_json("/api/v1/nodes/" + node_name(0));
  EXPECT_EQ(node["hardware"], kReplacement + kReplacement);
  const json grouped = get_json("/api/v1/nodes/" + node_name(1));
  EXPECT_FALSE(grouped["groups"].empty());
  const json events = get_json("/api/v1/events?limit=20");
  ASSERT_TRUE(events.contains("events"));
  bool saw_bad = false;
  for (const auto& e : events["events"]) saw_bad |= e["node"] == "bad," + kReplacement;
  EXPECT_TRUE(saw_bad) << "the damaged node's events are listed too: " << events.dump(1);
  get_json("/api/v1/stats/labels?window=30d&bucket=1d");
  get_json("/api/v1/stats/latency?window=30d");
  get_json("/healthz");
}

TEST_F(StoreTextTest, CsvExportQuotesAndReplaces) {
  fleet::ApiClient api(server_->url(), kViewerToken, 5s);
  const auto r = api.get("/api/v1/events?format=csv&limit=1000");
  ASSERT_EQ(r.status, 200) << r.body;
  size_t rows = 0, bad_rows = 0;
  for (size_t at = 0; at < r.body.size();) {
    const size_t end = r.body.find("\r\n", at);
    ASSERT_NE(end, std::string::npos) << "every CSV row ends in CRLF";
    const std::string line = r.body.substr(at, end - at);
    at = end + 2;
    if (rows++ == 0) continue;  // header
    if (line.find("\"bad," + kReplacement + "\"") != std::string::npos) ++bad_rows;
    EXPECT_EQ(line.find('\xFF'), std::string::npos) << "raw invalid byte in the export: " << line;
  }
  EXPECT_EQ(rows, 1u + 600 + 3);
  EXPECT_EQ(bad_rows, 3u) << "the damaged node id must be one quoted field";
}

}  // namespace
}  // namespace tinyedge::dashboard
