// The soak test's checker, held to known answers: if it could not see a missing, duplicated or
// unexpected result, the soak test could not fail.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gateway/store/sqlite/migrations.h"
#include "gateway/store/sqlite/database.h"
#include "tests/soak/sent_ledger.h"
#include "tests/soak/store_audit.h"

namespace tinyedge::soak {
namespace {

namespace fs = std::filesystem;
namespace sql = gateway::sql;

class SoakAudit : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("soak-audit-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // A store with the gateway's real schema.
  std::string real_store(const std::string& inserts) {
    const std::string path = (dir_ / "store.db").string();
    sql::Database db(path, sql::Database::Mode::kReadWrite);
    gateway::migrate(db);
    db.exec("INSERT INTO nodes(id, node_id, first_seen_ms, last_seen_ms) VALUES (1, 'n1', 0, 0), (2, 'n2', 0, 0);");
    if (!inserts.empty()) db.exec(inserts);
    return path;
  }
  static std::string event(int ref, int boot, int seq, int64_t at, int64_t received, int version = 1) {
    return "INSERT INTO events(node_ref, boot_id, seq, at_ms, received_ms, model_id, model_version, label, score, "
           "latency_us, sample_id) VALUES (" +
           std::to_string(ref) + "," + std::to_string(boot) + "," + std::to_string(seq) + "," + std::to_string(at) +
           "," + std::to_string(received) + ",7," + std::to_string(version) + ",0,0,0,0);";
  }
  fs::path dir_;
};

TEST_F(SoakAudit, LedgerCountsResendsAndReadsFinalLines) {
  SentLedger ledger;
  ledger.add_line("sent n1 4 1 8", "t:1");
  ledger.add_line("sent n1 4 5 9", "t:2");  // 5..8 resent
  ledger.add_line("final n1 4 9 0", "t:3");
  const auto& boot = ledger.boots().at(BootKey{"n1", 4});
  EXPECT_EQ(boot.distinct_sent(), 9u);
  EXPECT_EQ(boot.results_sent, 13u);
  EXPECT_EQ(boot.times_sent[6], 2u);
  EXPECT_EQ(boot.produced, 9u);
  EXPECT_EQ(ledger.node_count(), 1u);
}

TEST_F(SoakAudit, LedgerRefusesMalformedLinesNamingWhere) {
  SentLedger ledger;
  for (const char* bad :
       {"sent n1 4 1", "sent n1 x 1 2", "sent n1 4 3 2", "sent n1 4 0 2", "hello n1 4 1 2", "sent n1 4 1 2 3"}) {
    try {
      ledger.add_line(bad, "log:7");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("log:7"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(ledger.boots().empty()) << "a refused line changed the ledger";
}

TEST_F(SoakAudit, ExactlyOnceWhenEverySentSeqIsStoredOnce) {
  SentLedger ledger;
  ledger.add_line("sent n1 1 1 3", "t");
  ledger.add_line("sent n1 1 2 3", "t");
  ledger.add_line("final n1 1 3 0", "t");
  const auto events = read_events(real_store(event(1, 1, 1, 10, 20) + event(1, 1, 2, 11, 21) + event(1, 1, 3, 12, 22)));
  const AuditReport r = audit(ledger, events);
  EXPECT_TRUE(r.exactly_once()) << r.summary();
  EXPECT_EQ(r.sent_distinct, 3u);
  EXPECT_EQ(r.sent_copies, 5u);
  EXPECT_EQ(r.stored_rows, 3u);
  EXPECT_EQ(r.never_sent, 0u);
}

TEST_F(SoakAudit, FindsMissingUnexpectedAndNeverSent) {
  SentLedger ledger;
  ledger.add_line("sent n1 1 1 4", "t");
  ledger.add_line("final n1 1 6 2", "t");  // 5 and 6 never left the node
  // seq 3 missing; n2's row and n1 boot 2's row were never sent by anyone.
  const auto events = read_events(real_store(event(1, 1, 1, 0, 0) + event(1, 1, 2, 0, 0) + event(1, 1, 4, 0, 0) +
                                             event(2, 1, 1, 0, 0) + event(1, 2, 1, 0, 0)));
  const AuditReport r = audit(ledger, events);
  EXPECT_FALSE(r.exactly_once());
  EXPECT_EQ(r.missing, 1u);
  ASSERT_EQ(r.missing_examples.size(), 1u);
  EXPECT_EQ(r.missing_examples[0], "n1 boot 1 seq 3 sent 1x");
  EXPECT_EQ(r.unexpected, 2u);
  EXPECT_EQ(r.never_sent, 2u);
  EXPECT_EQ(r.unacked_at_exit, 2u);
  EXPECT_NE(r.summary().find("missing (sent, not stored): 1"), std::string::npos) << r.summary();
}

TEST_F(SoakAudit, FindsDuplicatedRows) {
  // The real schema cannot hold a duplicate (UNIQUE(node_ref, boot_id, seq)); a store without
  // that constraint shows the checker would still count one.
  const std::string path = (dir_ / "loose.db").string();
  {
    sql::Database db(path, sql::Database::Mode::kReadWrite);
    db.exec(
        "CREATE TABLE nodes(id INTEGER PRIMARY KEY, node_id TEXT);"
        "CREATE TABLE events(node_ref, boot_id, seq, at_ms, received_ms, model_version);"
        "INSERT INTO nodes VALUES (1, 'n1');"
        "INSERT INTO events VALUES (1, 1, 1, 0, 0, 1), (1, 1, 2, 0, 0, 1), (1, 1, 2, 0, 5, 1), (1, 1, 2, 0, 9, 1);");
  }
  SentLedger ledger;
  ledger.add_line("sent n1 1 1 2", "t");
  const AuditReport r = audit(ledger, read_events(path));
  EXPECT_EQ(r.duplicated, 2u);
  EXPECT_EQ(r.missing, 0u);
  ASSERT_FALSE(r.duplicated_examples.empty());
  EXPECT_EQ(r.duplicated_examples[0], "n1 boot 1 seq 2 stored 3x");
}

TEST_F(SoakAudit, RecoveryIsMeasuredFromTheRestart) {
  std::vector<StoredEvent> events = {
      {"n1", 1, 1, 900, 950, 1},    // before the outage, stored at once
      {"n1", 1, 2, 990, 1600, 1},   // made just before the outage (down at 1000), stored late
      {"n1", 1, 3, 1150, 1450, 1},  // made during it (up at 1200)
      {"n1", 1, 4, 1300, 1310, 1},  // made after: not part of the catch-up
  };
  const Recovery r = recovery_after(events, 1000, 1200);
  EXPECT_EQ(r.resumed_ms, 110);    // 1310 is the first row received at or after 1200
  EXPECT_EQ(r.caught_up_ms, 400);  // 1600 - 1200
  EXPECT_EQ(recovery_after({}, 1000, 1200).resumed_ms, -1);
}

TEST_F(SoakAudit, RolloutAndNodeVersionsComeFromTheStore) {
  std::vector<StoredEvent> events = {
      {"n1", 1, 1, 0, 0, 1}, {"n1", 1, 2, 0, 0, 2}, {"n2", 1, 5, 0, 0, 1}, {"n2", 1, 4, 0, 0, 2}};
  const auto stale = nodes_not_reporting_version(events, 2);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0], "n2 (v1)");
  EXPECT_EQ(read_rollout(real_store(""), 1).state, "absent");
  // n2 made seq 4 with v2, then seq 5 with v1: back to the old model.
  const auto back = version_regressions(events);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0], "n2 v2->v1 at boot 1 seq 5");
  events.erase(events.begin() + 2);
  EXPECT_TRUE(version_regressions(events).empty());
}

TEST_F(SoakAudit, FleetViewVersionsComeFromTheNodesTable) {
  const std::string db = real_store("UPDATE nodes SET model_version = 2 WHERE node_id = 'n1';");
  const auto behind = fleet_view_not_on_version(db, 2);
  ASSERT_EQ(behind.size(), 1u);
  EXPECT_EQ(behind[0], "n2 (v-1)");
}

}  // namespace
}  // namespace tinyedge::soak
