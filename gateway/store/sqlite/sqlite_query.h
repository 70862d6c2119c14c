// The SQLite read side: a read-only connection of its own; in WAL mode readers never block the
// writer and see only committed data.
//
// Pagination: events come newest first; EventPage::next_cursor is the id to pass as
// EventFilter::before_id for the next page. Event ids only ever increase, so pages stay stable
// while new events arrive (new ones appear only on a fresh first page).
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gateway/store/query.h"
#include "gateway/store/sqlite/database.h"

namespace tinyedge::gateway {

class SqliteQuery final : public Query {
 public:
  explicit SqliteQuery(const std::string& db_path);  // throws sql::Error
  ~SqliteQuery() override;

  EventPage events(const EventFilter& filter) override;
  std::vector<LabelBucket> label_stats(const LabelStatsFilter& filter) override;
  std::vector<LatencyStats> latency_percentiles(const LatencyFilter& filter) override;
  std::vector<NodeRow> nodes() override;
  std::vector<std::pair<uint32_t, uint32_t>> model_versions(const std::optional<std::string>& node_id,
                                                            const std::optional<std::string>& group) override;
  std::optional<NodeRow> node(const std::string& node_id) override;
  uint64_t event_count() override;
  std::vector<EventRow> events_after(int64_t after_id, size_t limit) override;
  int64_t last_event_id() override;
  std::vector<TelemetryRow> telemetry(const std::string& node_id, size_t limit) override;
  std::vector<OtaStatusRow> ota_history(const std::string& node_id, size_t limit) override;
  std::vector<EnrolledLabelRow> enrolled_labels(const std::string& node_id) override;
  std::vector<EnrollmentLogRow> enrollment_log(const std::string& node_id, size_t limit) override;

 private:
  sql::Statement& statement(const std::string& sql);
  std::vector<NodeRow> read_nodes(const std::optional<std::string>& only);

  std::mutex mutex_;
  std::unique_ptr<sql::Database> db_;
  std::map<std::string, sql::Statement> cache_;  // prepared once per distinct filter shape
};

// The SQL Query runs for a filter (values as ? placeholders): for EXPLAIN QUERY PLAN in benchmarks.
std::string events_sql(const EventFilter& filter);
std::string label_stats_sql(const LabelStatsFilter& filter);

}  // namespace tinyedge::gateway
