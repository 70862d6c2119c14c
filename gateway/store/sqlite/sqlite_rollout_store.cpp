#include "gateway/store/sqlite/sqlite_rollout_store.h"

#include <nlohmann/json.hpp>

#include "gateway/store/sqlite/rollout_schema.h"

namespace tinyedge::gateway {

using rollout::ModelRow;
using rollout::NodeRecord;
using rollout::RolloutRecord;
using rollout::StoreError;

namespace {

using json = nlohmann::json;

// Every SQLite failure leaves as the repository's own error, naming what failed.
template <typename F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const sql::Error& e) {
    throw StoreError(std::string("rollout store: ") + e.what());
  }
}

constexpr const char* kModelColumns =
    "id, model_id, version, name, payload_size, payload_sha256, key_id, hardware, created_at, uploaded_ms";

ModelRow read_model(const sql::Statement& s) {
  ModelRow row;
  row.id = s.int64(0);
  row.model_id = static_cast<uint32_t>(s.int64(1));
  row.version = static_cast<uint32_t>(s.int64(2));
  row.name = s.text(3);
  row.payload_size = static_cast<uint32_t>(s.int64(4));
  row.payload_sha256 = s.text(5);
  row.key_id = s.text(6);
  for (const auto& h : json::parse(s.text(7))) row.hardware.push_back(h.get<std::string>());
  row.created_at = static_cast<uint64_t>(s.int64(8));
  row.uploaded_ms = s.int64(9);
  return row;
}

constexpr const char* kRolloutColumns =
    "id, model_ref, previous_ref, model_id, version, previous_version, target, strategy, state, phase, phase_ends, "
    "created_ms, updated_ms, deadline_ms, soak_until_ms, reason, acked_failures, acked_attempted, "
    "gate_override_phase, gate_message";

RolloutRecord read_rollout(const sql::Statement& s) {
  RolloutRecord r;
  r.id = s.int64(0);
  r.package = {s.int64(1), static_cast<uint32_t>(s.int64(3)), static_cast<uint32_t>(s.int64(4))};
  if (!s.is_null(2)) r.previous = {s.int64(2), static_cast<uint32_t>(s.int64(3)), static_cast<uint32_t>(s.int64(5))};
  r.target = s.text(6);
  r.strategy = rollout::strategy_from_json(s.text(7));
  auto state = rollout::rollout_state_from_string(s.text(8));
  if (!state) throw StoreError("rollout store: rollout " + std::to_string(r.id) + " has unknown state " + s.text(8));
  r.state = *state;
  r.phase = static_cast<uint32_t>(s.int64(9));
  r.phase_ends = rollout::split_u32(s.text(10));
  r.created_at = s.int64(11);
  r.updated_at = s.int64(12);
  r.deadline_at = s.int64(13);
  r.soak_until = s.int64(14);
  r.reason = s.text(15);
  r.acked_failures = static_cast<uint32_t>(s.int64(16));
  r.acked_attempted = static_cast<uint32_t>(s.int64(17));
  r.gate_override_phase = static_cast<int32_t>(s.int64(18));
  r.gate_message = s.text(19);
  return r;
}

std::optional<ModelRow> one_model(sql::Statement& s) {
  if (!s.step()) return std::nullopt;
  return read_model(s);
}

}  // namespace

SqliteRolloutStore::SqliteRolloutStore(const std::string& db_path) {
  try {
    db_ = std::make_unique<sql::Database>(db_path, sql::Database::Mode::kReadWrite);
    // Rollout steps may wait behind a large ingest batch.
    sqlite3_busy_timeout(db_->handle(), 10000);
    db_->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    db_->exec(kRolloutSchemaSql);
    db_->exec(kDeltaSchemaSql);
    auto offered = db_->prepare("SELECT 1 FROM pragma_table_info('rollout_nodes') WHERE name = 'offered_base'");
    const bool has_offered_base = offered.step();
    offered.reset();
    // Only on a database of its own: a gateway's database gets the columns from its migration 11
    // (which would fail on columns already there).
    if (!has_offered_base && db_->scalar("PRAGMA user_version") == 0) db_->exec(kOfferedPackageSql);
  } catch (const sql::Error& e) {
    throw StoreError(std::string("rollout store: ") + e.what());
  }
}

SqliteRolloutStore::~SqliteRolloutStore() = default;

int64_t SqliteRolloutStore::insert_model(const ModelRow& row, const std::vector<uint8_t>& package_bytes) {
  if (model_by_version(row.model_id, row.version)) {
    throw StoreError("model " + std::to_string(row.model_id) + " v" + std::to_string(row.version) +
                     " is already in the registry");
  }
  return guarded([&] {
    json hardware = row.hardware;
    auto s = db_->prepare(
        "INSERT INTO models (model_id, version, name, payload_size, payload_sha256, key_id, hardware, created_at, "
        "uploaded_ms, package) VALUES (?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, row.model_id).bind(2, row.version).bind(3, row.name).bind(4, row.payload_size);
    s.bind(5, row.payload_sha256).bind(6, row.key_id).bind(7, hardware.dump());
    s.bind(8, static_cast<int64_t>(row.created_at)).bind(9, row.uploaded_ms).bind_blob(10, package_bytes);
    s.run();
    return db_->last_insert_id();
  });
}

std::vector<ModelRow> SqliteRolloutStore::models() {
  return guarded([&] {
    auto s = db_->prepare(std::string("SELECT ") + kModelColumns + " FROM models ORDER BY model_id, version");
    std::vector<ModelRow> out;
    while (s.step()) out.push_back(read_model(s));
    return out;
  });
}

std::optional<ModelRow> SqliteRolloutStore::model(int64_t id) {
  return guarded([&] {
    auto s = db_->prepare(std::string("SELECT ") + kModelColumns + " FROM models WHERE id = ?");
    s.bind(1, id);
    return one_model(s);
  });
}

std::optional<ModelRow> SqliteRolloutStore::model_by_version(uint32_t model_id, uint32_t version) {
  return guarded([&] {
    auto s = db_->prepare(std::string("SELECT ") + kModelColumns + " FROM models WHERE model_id = ? AND version = ?");
    s.bind(1, model_id).bind(2, version);
    return one_model(s);
  });
}

std::optional<ModelRow> SqliteRolloutStore::previous_model(uint32_t model_id, uint32_t version) {
  return guarded([&] {
    auto s = db_->prepare(std::string("SELECT ") + kModelColumns +
                          " FROM models WHERE model_id = ? AND version < ? ORDER BY version DESC LIMIT 1");
    s.bind(1, model_id).bind(2, version);
    return one_model(s);
  });
}

std::vector<uint8_t> SqliteRolloutStore::package_bytes(int64_t id) {
  auto bytes = guarded([&]() -> std::optional<std::vector<uint8_t>> {
    auto s = db_->prepare("SELECT package FROM models WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return s.blob(0);
  });
  if (!bytes) throw StoreError("model " + std::to_string(id) + " is not in the registry");
  return std::move(*bytes);
}

int64_t SqliteRolloutStore::insert_delta(const rollout::DeltaRow& row, const std::vector<uint8_t>& package_bytes) {
  return guarded([&] {
    auto exists = db_->prepare("SELECT 1 FROM model_deltas WHERE model_ref = ? AND base_sha256 = ?");
    exists.bind(1, row.model_ref).bind(2, row.base_sha256);
    if (exists.step()) {
      throw StoreError("a delta of registry entry " + std::to_string(row.model_ref) + " from base " +
                       row.base_sha256.substr(0, 16) + "... is already in the registry");
    }
    auto s = db_->prepare(
        "INSERT INTO model_deltas (model_ref, base_sha256, base_ref, wire_size, uploaded_ms, package) "
        "VALUES (?,?,?,?,?,?)");
    s.bind(1, row.model_ref).bind(2, row.base_sha256);
    if (row.base_ref)
      s.bind(3, row.base_ref);
    else
      s.bind_null(3);
    s.bind(4, row.wire_size).bind(5, row.uploaded_ms).bind_blob(6, package_bytes);
    s.run();
    return db_->last_insert_id();
  });
}

std::vector<rollout::DeltaRow> SqliteRolloutStore::deltas() {
  return guarded([&] {
    auto s = db_->prepare(
        "SELECT d.id, d.model_ref, d.base_sha256, COALESCE(d.base_ref, 0), COALESCE(b.version, 0), d.wire_size, "
        "d.uploaded_ms FROM model_deltas d LEFT JOIN models b ON b.id = d.base_ref ORDER BY d.model_ref, d.id");
    std::vector<rollout::DeltaRow> out;
    while (s.step()) {
      out.push_back({s.int64(0), s.int64(1), s.text(2), s.int64(3), static_cast<uint32_t>(s.int64(4)),
                     static_cast<uint32_t>(s.int64(5)), s.int64(6)});
    }
    return out;
  });
}

std::vector<uint8_t> SqliteRolloutStore::delta_package_bytes(int64_t delta_id) {
  auto bytes = guarded([&]() -> std::optional<std::vector<uint8_t>> {
    auto s = db_->prepare("SELECT package FROM model_deltas WHERE id = ?");
    s.bind(1, delta_id);
    if (!s.step()) return std::nullopt;
    return s.blob(0);
  });
  if (!bytes) throw StoreError("delta " + std::to_string(delta_id) + " is not in the registry");
  return std::move(*bytes);
}

int64_t SqliteRolloutStore::insert_rollout(const RolloutRecord& r) {
  return guarded([&] {
    auto s = db_->prepare(
        "INSERT INTO rollouts (model_ref, previous_ref, model_id, version, previous_version, target, strategy, state, "
        "phase, phase_ends, created_ms, updated_ms, deadline_ms, soak_until_ms, reason, acked_failures, "
        "acked_attempted, gate_override_phase, gate_message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, r.package.registry_id);
    if (r.previous.registry_id)
      s.bind(2, r.previous.registry_id);
    else
      s.bind_null(2);
    s.bind(3, r.package.model_id).bind(4, r.package.version).bind(5, r.previous.version);
    s.bind(6, r.target).bind(7, rollout::strategy_to_json(r.strategy)).bind(8, rollout::to_string(r.state));
    s.bind(9, r.phase).bind(10, rollout::join_u32(r.phase_ends)).bind(11, r.created_at).bind(12, r.updated_at);
    s.bind(13, r.deadline_at).bind(14, r.soak_until).bind(15, r.reason).bind(16, r.acked_failures);
    s.bind(17, r.acked_attempted).bind(18, r.gate_override_phase).bind(19, r.gate_message);
    s.run();
    return db_->last_insert_id();
  });
}

void SqliteRolloutStore::save(const RolloutRecord& r, const std::vector<const NodeRecord*>& nodes) {
  guarded([&] {
    sql::Transaction tx(*db_);
    {
      auto s = db_->prepare(
          "UPDATE rollouts SET state=?, phase=?, phase_ends=?, updated_ms=?, deadline_ms=?, soak_until_ms=?, "
          "reason=?, acked_failures=?, acked_attempted=?, gate_override_phase=?, gate_message=? WHERE id=?");
      s.bind(1, rollout::to_string(r.state)).bind(2, r.phase).bind(3, rollout::join_u32(r.phase_ends));
      s.bind(4, r.updated_at).bind(5, r.deadline_at).bind(6, r.soak_until).bind(7, r.reason);
      s.bind(8, r.acked_failures).bind(9, r.acked_attempted).bind(10, r.gate_override_phase);
      s.bind(11, r.gate_message).bind(12, r.id);
      s.run();
      if (db_->changes() != 1) throw StoreError("rollout " + std::to_string(r.id) + " is not in the store");
    }
    auto s = db_->prepare(
        "INSERT OR REPLACE INTO rollout_nodes (rollout_id, node_id, ord, phase, state, reason, bytes_written, "
        "total_bytes, attempts, offered_ms, last_activity_ms, finished_ms, rollback, from_version, offered_base, "
        "full_only) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const NodeRecord* n : nodes) {
      s.bind(1, r.id).bind(2, n->node_id).bind(3, n->order).bind(4, n->phase);
      s.bind(5, rollout::to_string(n->state)).bind(6, n->reason).bind(7, n->bytes_written);
      s.bind(8, n->total_bytes).bind(9, n->attempts).bind(10, n->offered_at).bind(11, n->last_activity);
      s.bind(12, n->finished_at).bind(13, n->rollback ? 1 : 0).bind(14, n->from_version);
      s.bind(15, n->offered_base).bind(16, n->full_only ? 1 : 0);
      s.run();
    }
    tx.commit();
  });
}

std::vector<RolloutRecord> SqliteRolloutStore::rollouts() {
  return guarded([&] {
    auto s = db_->prepare(std::string("SELECT ") + kRolloutColumns + " FROM rollouts ORDER BY id");
    std::vector<RolloutRecord> out;
    while (s.step()) out.push_back(read_rollout(s));
    return out;
  });
}

std::optional<RolloutRecord> SqliteRolloutStore::rollout(int64_t id) {
  return guarded([&]() -> std::optional<RolloutRecord> {
    auto s = db_->prepare(std::string("SELECT ") + kRolloutColumns + " FROM rollouts WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_rollout(s);
  });
}

std::vector<NodeRecord> SqliteRolloutStore::rollout_nodes(int64_t rollout_id) {
  return guarded([&] {
    auto s = db_->prepare(
        "SELECT node_id, ord, phase, state, reason, bytes_written, total_bytes, attempts, offered_ms, "
        "last_activity_ms, finished_ms, rollback, from_version, offered_base, full_only FROM rollout_nodes "
        "WHERE rollout_id = ? ORDER BY ord");
    s.bind(1, rollout_id);
    std::vector<NodeRecord> out;
    while (s.step()) {
      NodeRecord n;
      n.node_id = s.text(0);
      n.order = static_cast<uint32_t>(s.int64(1));
      n.phase = static_cast<uint32_t>(s.int64(2));
      auto state = rollout::node_state_from_string(s.text(3));
      if (!state) throw StoreError("rollout store: node " + n.node_id + " has unknown state " + s.text(3));
      n.state = *state;
      n.reason = s.text(4);
      n.bytes_written = static_cast<uint32_t>(s.int64(5));
      n.total_bytes = static_cast<uint32_t>(s.int64(6));
      n.attempts = static_cast<uint32_t>(s.int64(7));
      n.offered_at = s.int64(8);
      n.last_activity = s.int64(9);
      n.finished_at = s.int64(10);
      n.rollback = s.int64(11) != 0;
      n.from_version = static_cast<uint32_t>(s.int64(12));
      n.offered_base = s.text(13);
      n.full_only = s.int64(14) != 0;
      out.push_back(std::move(n));
    }
    return out;
  });
}

}  // namespace tinyedge::gateway
