// The drift baselines (drift_baseline_store.h) on the PostgreSQL server every gateway of the site
// shares, on a connection of its own.
#pragma once
#include <memory>
#include <string>

#include "gateway/store/drift_baseline_store.h"
#include "gateway/store/postgres/connection.h"

namespace tinyedge::gateway {

class PgDriftBaselines final : public DriftBaselineStore {
 public:
  explicit PgDriftBaselines(const std::string& url);  // connects and migrates; throws pg::Error
  std::vector<DriftBaselineRecord> load(size_t max_rows) override;
  void save(const std::vector<DriftBaselineRecord>& records, size_t keep_rows) override;
  void forget(uint32_t model_id, uint32_t model_version, const std::string& group) override;

 private:
  std::unique_ptr<pg::Connection> db_;
};

}  // namespace tinyedge::gateway
