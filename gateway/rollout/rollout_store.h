// The rollout repository: what the model registry and the rollout service need persisted. The
// backends live in gateway/store (open_rollout_store in gateway/store/rollout_backend.h picks one
// from the store options); each runs on a connection of its own. Writes are small and rare next
// to event ingest: one transaction per engine step.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateway/rollout/rollout_engine.h"

namespace tinyedge::rollout {

class RolloutMailbox;

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A delta package (PAYLOAD_LZ_DELTA) registered beside the full package it installs the same bytes
// as: offered to the nodes that run its base, the full package going to everyone else.
struct DeltaRow {
  int64_t id = 0;
  int64_t model_ref = 0;      // the full package of the same target version (models.id)
  std::string base_sha256;    // hex: the installed base model the delta copies from
  int64_t base_ref = 0;       // the base's full package in the registry (0: none there)
  uint32_t base_version = 0;  // its version (0 when base_ref is 0)
  uint32_t wire_size = 0;     // bytes on the wire
  TimeMs uploaded_ms = 0;
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
  std::vector<DeltaRow> deltas;  // not a column: filled by the registry's list()
};

class RolloutStore {
 public:
  virtual ~RolloutStore() = default;

  // Models. insert_model throws StoreError if (model_id, version) is already registered.
  virtual int64_t insert_model(const ModelRow& row, const std::vector<uint8_t>& package_bytes) = 0;
  virtual std::vector<ModelRow> models() = 0;
  virtual std::optional<ModelRow> model(int64_t id) = 0;
  virtual std::optional<ModelRow> model_by_version(uint32_t model_id, uint32_t version) = 0;
  // The highest registered version of `model_id` below `version`.
  virtual std::optional<ModelRow> previous_model(uint32_t model_id, uint32_t version) = 0;
  virtual std::vector<uint8_t> package_bytes(int64_t id) = 0;
  // Deltas: insert_delta throws StoreError if the target already has a delta from that base.
  virtual int64_t insert_delta(const DeltaRow& row, const std::vector<uint8_t>& package_bytes) = 0;
  virtual std::vector<DeltaRow> deltas() = 0;  // every registered delta, by target then id
  virtual std::vector<uint8_t> delta_package_bytes(int64_t delta_id) = 0;

  // Rollouts: insert assigns record.id; save writes the record and the named nodes in one
  // transaction. Every failure throws StoreError naming it.
  virtual int64_t insert_rollout(const RolloutRecord& record) = 0;
  virtual void save(const RolloutRecord& record, const std::vector<const NodeRecord*>& nodes) = 0;
  virtual std::vector<RolloutRecord> rollouts() = 0;
  virtual std::optional<RolloutRecord> rollout(int64_t id) = 0;
  virtual std::vector<NodeRecord> rollout_nodes(int64_t rollout_id) = 0;

  // Set when several gateways share this store (rollout_mailbox.h); nullptr when one gateway owns it.
  virtual RolloutMailbox* mailbox() { return nullptr; }
};

// Shared by the backends: phase ends as stored ("3,10,100").
std::string join_u32(const std::vector<uint32_t>& values);
std::vector<uint32_t> split_u32(const std::string& text);

// Strategy <-> JSON text, as stored and as the REST API carries it.
std::string strategy_to_json(const Strategy& strategy);
Strategy strategy_from_json(const std::string& text);  // throws std::invalid_argument

}  // namespace tinyedge::rollout
