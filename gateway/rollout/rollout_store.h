// SQLite persistence for the model registry and rollouts, on a connection of its own (WAL, so it
// shares the gateway's database file with the event writer). Writes are small and rare next to
// event ingest: one transaction per engine step.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateway/rollout/rollout_engine.h"

struct sqlite3;

namespace tinyedge::rollout {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ModelRow {
  int64_t id = 0;
  uint32_t model_id = 0;
  uint32_t version = 0;
  std::string name;
  uint32_t payload_size = 0;
  std::string payload_sha256;  // hex
  std::string key_id;          // hex
  std::vector<std::string> hardware;
  uint64_t created_at = 0;
  TimeMs uploaded_ms = 0;
};

class RolloutStore {
 public:
  explicit RolloutStore(const std::string& db_path);  // throws StoreError
  ~RolloutStore();
  RolloutStore(const RolloutStore&) = delete;
  RolloutStore& operator=(const RolloutStore&) = delete;

  // Models. insert_model throws StoreError if (model_id, version) is already registered.
  int64_t insert_model(const ModelRow& row, const std::vector<uint8_t>& package_bytes);
  std::vector<ModelRow> models();
  std::optional<ModelRow> model(int64_t id);
  std::optional<ModelRow> model_by_version(uint32_t model_id, uint32_t version);
  // The highest registered version of `model_id` below `version`.
  std::optional<ModelRow> previous_model(uint32_t model_id, uint32_t version);
  std::vector<uint8_t> package_bytes(int64_t id);

  // Rollouts: insert assigns record.id; save writes the record and the named nodes in one
  // transaction.
  int64_t insert_rollout(const RolloutRecord& record);
  void save(const RolloutRecord& record, const std::vector<const NodeRecord*>& nodes);
  std::vector<RolloutRecord> rollouts();
  std::optional<RolloutRecord> rollout(int64_t id);
  std::vector<NodeRecord> rollout_nodes(int64_t rollout_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Strategy <-> JSON text, as stored and as the REST API carries it.
std::string strategy_to_json(const Strategy& strategy);
Strategy strategy_from_json(const std::string& text);  // throws std::invalid_argument

}  // namespace tinyedge::rollout
