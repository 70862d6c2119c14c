// The drift baselines (drift_baseline_store.h) in the gateway's SQLite file, on a connection of
// its own (WAL: it shares the file with the event writer).
#pragma once
#include <memory>
#include <string>

#include "gateway/store/drift_baseline_store.h"
#include "gateway/store/sqlite/database.h"

namespace tinyedge::gateway {

class SqliteDriftBaselines final : public DriftBaselineStore {
 public:
  explicit SqliteDriftBaselines(const std::string& db_path);  // throws sql::Error
  std::vector<DriftBaselineRecord> load(size_t max_rows) override;
  void save(const std::vector<DriftBaselineRecord>& records, size_t keep_rows) override;
  void forget(uint32_t model_id, uint32_t model_version, const std::string& group) override;

 private:
  std::unique_ptr<sql::Database> db_;
};

}  // namespace tinyedge::gateway
