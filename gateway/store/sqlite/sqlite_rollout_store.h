// The rollout repository in SQLite, on a connection of its own (WAL, so it shares the gateway's
// database file with the event writer).
#pragma once
#include <memory>
#include <string>

#include "gateway/rollout/rollout_store.h"
#include "gateway/store/sqlite/database.h"

namespace tinyedge::gateway {

class SqliteRolloutStore final : public rollout::RolloutStore {
 public:
  explicit SqliteRolloutStore(const std::string& db_path);  // throws rollout::StoreError
  ~SqliteRolloutStore() override;

  int64_t insert_model(const rollout::ModelRow& row, const std::vector<uint8_t>& package_bytes) override;
  std::vector<rollout::ModelRow> models() override;
  std::optional<rollout::ModelRow> model(int64_t id) override;
  std::optional<rollout::ModelRow> model_by_version(uint32_t model_id, uint32_t version) override;
  std::optional<rollout::ModelRow> previous_model(uint32_t model_id, uint32_t version) override;
  std::vector<uint8_t> package_bytes(int64_t id) override;
  int64_t insert_delta(const rollout::DeltaRow& row, const std::vector<uint8_t>& package_bytes) override;
  std::vector<rollout::DeltaRow> deltas() override;
  std::vector<uint8_t> delta_package_bytes(int64_t delta_id) override;

  int64_t insert_rollout(const rollout::RolloutRecord& record) override;
  void save(const rollout::RolloutRecord& record, const std::vector<const rollout::NodeRecord*>& nodes) override;
  std::vector<rollout::RolloutRecord> rollouts() override;
  std::optional<rollout::RolloutRecord> rollout(int64_t id) override;
  std::vector<rollout::NodeRecord> rollout_nodes(int64_t rollout_id) override;

 private:
  std::unique_ptr<sql::Database> db_;
};

}  // namespace tinyedge::gateway
