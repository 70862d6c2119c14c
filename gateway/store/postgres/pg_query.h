// The PostgreSQL read side: a connection of its own; reads see only committed data and never block
// the writers. Same answers as the SQLite backend (query.h), from the day-partitioned events
// table: a time window reads only the days it covers.
#pragma once
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "gateway/store/postgres/connection.h"
#include "gateway/store/query.h"

namespace tinyedge::gateway {

class PgQuery final : public Query {
 public:
  explicit PgQuery(const std::string& url);  // throws pg::Error
  ~PgQuery() override;

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
  // Runs on the connection, dialling again once if it was lost (a restarted server).
  pg::Result run(const std::string& sql, const pg::Params& params = {});
  std::vector<NodeRow> read_nodes(const std::optional<std::string>& only);
  // Deletes the claims of writers that are gone (pg_query.cpp says when and why).
  bool clear_dead_claims();

  static constexpr std::chrono::milliseconds kDeadClaimInterval{1000};

  std::mutex mutex_;
  std::unique_ptr<pg::Connection> db_;
  std::optional<std::chrono::steady_clock::time_point> last_clean_;
};

}  // namespace tinyedge::gateway
