#include "gateway/store/postgres/pg_drift_baselines.h"

#include <algorithm>
#include <tuple>

#include "gateway/store/postgres/migrations.h"

namespace tinyedge::gateway {

PgDriftBaselines::PgDriftBaselines(const std::string& url) : db_(std::make_unique<pg::Connection>(url)) {
  pg::migrate(*db_);
}

std::vector<DriftBaselineRecord> PgDriftBaselines::load(size_t max_rows) {
  const pg::Result r = db_->query(
      "SELECT model_id, model_version, group_name, results, result_baseline, periods, input_baseline, updated_ms "
      "FROM drift_baselines ORDER BY updated_ms DESC LIMIT $1",
      pg::Params().add(static_cast<int64_t>(max_rows)));
  std::vector<DriftBaselineRecord> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({static_cast<uint32_t>(r.int64(i, 0)), static_cast<uint32_t>(r.int64(i, 1)), r.text(i, 2),
                   static_cast<uint64_t>(r.int64(i, 3)), r.text(i, 4), static_cast<uint64_t>(r.int64(i, 5)),
                   r.text(i, 6), r.int64(i, 7)});
  }
  return out;
}

void PgDriftBaselines::save(const std::vector<DriftBaselineRecord>& records, size_t keep_rows) {
  // Every gateway writes its rows in key order, so two saves wait on each other instead of
  // deadlocking; a conflict the server still reports is retried.
  std::vector<const DriftBaselineRecord*> ordered;
  for (const auto& r : records) ordered.push_back(&r);
  std::sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) {
    return std::tie(a->model_id, a->model_version, a->group) < std::tie(b->model_id, b->model_version, b->group);
  });
  for (int attempt = 0;; ++attempt) {
    try {
      pg::Transaction transaction(*db_);
      for (const auto* r : ordered) {
        // Per part, the one learnt from more stays (SET reads the row as it was before the update).
        db_->query(
            "INSERT INTO drift_baselines AS b (model_id, model_version, group_name, results, result_baseline, "
            "periods, input_baseline, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (model_id, model_version, group_name) DO UPDATE SET "
            "result_baseline = CASE WHEN excluded.results > b.results THEN excluded.result_baseline "
            "ELSE b.result_baseline END, results = GREATEST(excluded.results, b.results), "
            "input_baseline = CASE WHEN excluded.periods > b.periods THEN excluded.input_baseline "
            "ELSE b.input_baseline END, periods = GREATEST(excluded.periods, b.periods), "
            "updated_ms = CASE WHEN excluded.results > b.results OR excluded.periods > b.periods "
            "THEN excluded.updated_ms ELSE b.updated_ms END",
            pg::Params()
                .add(int64_t{r->model_id})
                .add(int64_t{r->model_version})
                .add(r->group)
                .add(static_cast<int64_t>(r->results))
                .add(r->result_baseline)
                .add(static_cast<int64_t>(r->periods))
                .add(r->input_baseline)
                .add(r->updated_ms));
      }
      db_->query(
          "DELETE FROM drift_baselines WHERE (model_id, model_version, group_name) NOT IN (SELECT model_id, "
          "model_version, group_name FROM drift_baselines ORDER BY updated_ms DESC LIMIT $1)",
          pg::Params().add(static_cast<int64_t>(keep_rows)));
      transaction.commit();
      return;
    } catch (const pg::Error& e) {
      if (!e.conflict() || attempt >= 2) throw;
    }
  }
}

void PgDriftBaselines::forget(uint32_t model_id, uint32_t model_version, const std::string& group) {
  db_->query("DELETE FROM drift_baselines WHERE model_id = $1 AND model_version = $2 AND group_name = $3",
             pg::Params().add(int64_t{model_id}).add(int64_t{model_version}).add(group));
}

}  // namespace tinyedge::gateway
