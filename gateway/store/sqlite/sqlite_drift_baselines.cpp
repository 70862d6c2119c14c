#include "gateway/store/sqlite/sqlite_drift_baselines.h"

#include "gateway/store/sqlite/migrations.h"

namespace tinyedge::gateway {

SqliteDriftBaselines::SqliteDriftBaselines(const std::string& db_path)
    : db_(std::make_unique<sql::Database>(db_path, sql::Database::Mode::kReadWrite)) {
  db_->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  migrate(*db_);  // the table exists even if this connection is the first to open the file
}

std::vector<DriftBaselineRecord> SqliteDriftBaselines::load(size_t max_rows) {
  auto s = db_->prepare(
      "SELECT model_id, model_version, group_name, results, result_baseline, periods, input_baseline, updated_ms "
      "FROM drift_baselines ORDER BY updated_ms DESC LIMIT ?");
  s.bind(1, static_cast<int64_t>(max_rows));
  std::vector<DriftBaselineRecord> out;
  while (s.step()) {
    out.push_back({static_cast<uint32_t>(s.int64(0)), static_cast<uint32_t>(s.int64(1)), s.text(2),
                   static_cast<uint64_t>(s.int64(3)), s.text(4), static_cast<uint64_t>(s.int64(5)), s.text(6),
                   s.int64(7)});
  }
  return out;
}

void SqliteDriftBaselines::save(const std::vector<DriftBaselineRecord>& records, size_t keep_rows) {
  sql::Transaction transaction(*db_);
  // Per part, the one learnt from more stays (SET reads the row as it was before the update).
  auto upsert = db_->prepare(
      "INSERT INTO drift_baselines AS b (model_id, model_version, group_name, results, result_baseline, periods, "
      "input_baseline, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (model_id, model_version, group_name) DO UPDATE SET "
      "result_baseline = CASE WHEN excluded.results > b.results THEN excluded.result_baseline "
      "ELSE b.result_baseline END, results = max(excluded.results, b.results), "
      "input_baseline = CASE WHEN excluded.periods > b.periods THEN excluded.input_baseline "
      "ELSE b.input_baseline END, periods = max(excluded.periods, b.periods), "
      "updated_ms = CASE WHEN excluded.results > b.results OR excluded.periods > b.periods THEN excluded.updated_ms "
      "ELSE b.updated_ms END");
  for (const auto& r : records) {
    upsert.bind(1, int64_t{r.model_id})
        .bind(2, int64_t{r.model_version})
        .bind(3, r.group)
        .bind(4, static_cast<int64_t>(r.results))
        .bind(5, r.result_baseline)
        .bind(6, static_cast<int64_t>(r.periods))
        .bind(7, r.input_baseline)
        .bind(8, r.updated_ms)
        .run();
  }
  db_->prepare(
         "DELETE FROM drift_baselines WHERE (model_id, model_version, group_name) NOT IN (SELECT model_id, "
         "model_version, group_name FROM drift_baselines ORDER BY updated_ms DESC LIMIT ?)")
      .bind(1, static_cast<int64_t>(keep_rows))
      .run();
  transaction.commit();
}

void SqliteDriftBaselines::forget(uint32_t model_id, uint32_t model_version, const std::string& group) {
  db_->prepare("DELETE FROM drift_baselines WHERE model_id = ? AND model_version = ? AND group_name = ?")
      .bind(1, int64_t{model_id})
      .bind(2, int64_t{model_version})
      .bind(3, group)
      .run();
}

}  // namespace tinyedge::gateway
