#include "gateway/rollout/rollout_store.h"

#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "gateway/rollout/rollout_json.h"
#include "gateway/rollout/rollout_schema.h"

namespace tinyedge::rollout {
namespace {

using json = nlohmann::json;

// One prepared statement, finalized on scope exit; binds by position from 1.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Stmt& bind(int i, const std::string& v) {
    return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Stmt& bind_blob(int i, const std::vector<uint8_t>& v) {
    return check(sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Stmt& bind_null(int i) { return check(sqlite3_bind_null(stmt_, i)); }
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("step");
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t i64(int c) const { return sqlite3_column_int64(stmt_, c); }
  bool null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  std::string text(int c) const {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string();
  }
  std::vector<uint8_t> blob(int c) const {
    auto p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, c));
    return p ? std::vector<uint8_t>(p, p + sqlite3_column_bytes(stmt_, c)) : std::vector<uint8_t>();
  }

 private:
  Stmt& check(int rc) {
    if (rc != SQLITE_OK) fail("bind");
    return *this;
  }
  [[noreturn]] void fail(const char* what) {
    throw StoreError(std::string("rollout store: ") + what + ": " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errmsg(db);
    sqlite3_free(error);
    throw StoreError("rollout store: " + message);
  }
}

std::string join_u32(const std::vector<uint32_t>& v) {
  std::string out;
  for (uint32_t x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}
std::vector<uint32_t> split_u32(const std::string& s) {
  std::vector<uint32_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(static_cast<uint32_t>(std::stoul(item)));
  }
  return out;
}

constexpr const char* kModelColumns =
    "id, model_id, version, name, payload_size, payload_sha256, key_id, hardware, created_at, uploaded_ms";

ModelRow read_model(const Stmt& s) {
  ModelRow row;
  row.id = s.i64(0);
  row.model_id = static_cast<uint32_t>(s.i64(1));
  row.version = static_cast<uint32_t>(s.i64(2));
  row.name = s.text(3);
  row.payload_size = static_cast<uint32_t>(s.i64(4));
  row.payload_sha256 = s.text(5);
  row.key_id = s.text(6);
  for (const auto& h : json::parse(s.text(7))) row.hardware.push_back(h.get<std::string>());
  row.created_at = static_cast<uint64_t>(s.i64(8));
  row.uploaded_ms = s.i64(9);
  return row;
}

constexpr const char* kRolloutColumns =
    "id, model_ref, previous_ref, model_id, version, previous_version, target, strategy, state, phase, phase_ends, "
    "created_ms, updated_ms, deadline_ms, soak_until_ms, reason, acked_failures, acked_attempted, "
    "gate_override_phase, gate_message";

RolloutRecord read_rollout(const Stmt& s) {
  RolloutRecord r;
  r.id = s.i64(0);
  r.package = {s.i64(1), static_cast<uint32_t>(s.i64(3)), static_cast<uint32_t>(s.i64(4))};
  if (!s.null(2)) r.previous = {s.i64(2), static_cast<uint32_t>(s.i64(3)), static_cast<uint32_t>(s.i64(5))};
  r.target = s.text(6);
  r.strategy = strategy_from_json(s.text(7));
  auto state = rollout_state_from_string(s.text(8));
  if (!state) throw StoreError("rollout store: rollout " + std::to_string(r.id) + " has unknown state " + s.text(8));
  r.state = *state;
  r.phase = static_cast<uint32_t>(s.i64(9));
  r.phase_ends = split_u32(s.text(10));
  r.created_at = s.i64(11);
  r.updated_at = s.i64(12);
  r.deadline_at = s.i64(13);
  r.soak_until = s.i64(14);
  r.reason = s.text(15);
  r.acked_failures = static_cast<uint32_t>(s.i64(16));
  r.acked_attempted = static_cast<uint32_t>(s.i64(17));
  r.gate_override_phase = static_cast<int32_t>(s.i64(18));
  r.gate_message = s.text(19);
  return r;
}

// Commits on commit(), rolls back otherwise.
class Tx {
 public:
  explicit Tx(sqlite3* db) : db_(db) { exec(db_, "BEGIN IMMEDIATE"); }
  ~Tx() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(db_, "COMMIT");
    open_ = false;
  }

 private:
  sqlite3* db_;
  bool open_ = true;
};

}  // namespace

struct RolloutStore::Impl {
  sqlite3* db = nullptr;
  ~Impl() { sqlite3_close(db); }
};

RolloutStore::RolloutStore(const std::string& db_path) : impl_(std::make_unique<Impl>()) {
  if (sqlite3_open_v2(db_path.c_str(), &impl_->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    throw StoreError("rollout store: cannot open " + db_path + ": " +
                     (impl_->db ? sqlite3_errmsg(impl_->db) : "out of memory"));
  }
  sqlite3_busy_timeout(impl_->db, 10000);
  exec(impl_->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  exec(impl_->db, kRolloutSchemaSql);
}

RolloutStore::~RolloutStore() = default;

int64_t RolloutStore::insert_model(const ModelRow& row, const std::vector<uint8_t>& package_bytes) {
  if (model_by_version(row.model_id, row.version)) {
    throw StoreError("model " + std::to_string(row.model_id) + " v" + std::to_string(row.version) +
                     " is already in the registry");
  }
  json hardware = row.hardware;
  Stmt s(impl_->db,
         "INSERT INTO models (model_id, version, name, payload_size, payload_sha256, key_id, hardware, created_at, "
         "uploaded_ms, package) VALUES (?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, row.model_id).bind(2, row.version).bind(3, row.name).bind(4, row.payload_size);
  s.bind(5, row.payload_sha256).bind(6, row.key_id).bind(7, hardware.dump());
  s.bind(8, static_cast<int64_t>(row.created_at)).bind(9, row.uploaded_ms).bind_blob(10, package_bytes);
  s.step();
  return sqlite3_last_insert_rowid(impl_->db);
}

std::vector<ModelRow> RolloutStore::models() {
  Stmt s(impl_->db, (std::string("SELECT ") + kModelColumns + " FROM models ORDER BY model_id, version").c_str());
  std::vector<ModelRow> out;
  while (s.step()) out.push_back(read_model(s));
  return out;
}

std::optional<ModelRow> RolloutStore::model(int64_t id) {
  Stmt s(impl_->db, (std::string("SELECT ") + kModelColumns + " FROM models WHERE id = ?").c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_model(s);
}

std::optional<ModelRow> RolloutStore::model_by_version(uint32_t model_id, uint32_t version) {
  Stmt s(impl_->db, (std::string("SELECT ") + kModelColumns + " FROM models WHERE model_id = ? AND version = ?").c_str());
  s.bind(1, model_id).bind(2, version);
  if (!s.step()) return std::nullopt;
  return read_model(s);
}

std::optional<ModelRow> RolloutStore::previous_model(uint32_t model_id, uint32_t version) {
  Stmt s(impl_->db, (std::string("SELECT ") + kModelColumns +
                     " FROM models WHERE model_id = ? AND version < ? ORDER BY version DESC LIMIT 1")
                        .c_str());
  s.bind(1, model_id).bind(2, version);
  if (!s.step()) return std::nullopt;
  return read_model(s);
}

std::vector<uint8_t> RolloutStore::package_bytes(int64_t id) {
  Stmt s(impl_->db, "SELECT package FROM models WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) throw StoreError("model " + std::to_string(id) + " is not in the registry");
  return s.blob(0);
}

int64_t RolloutStore::insert_rollout(const RolloutRecord& r) {
  Stmt s(impl_->db,
         "INSERT INTO rollouts (model_ref, previous_ref, model_id, version, previous_version, target, strategy, state, "
         "phase, phase_ends, created_ms, updated_ms, deadline_ms, soak_until_ms, reason, acked_failures, "
         "acked_attempted, gate_override_phase, gate_message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, r.package.registry_id);
  if (r.previous.registry_id) s.bind(2, r.previous.registry_id);
  else s.bind_null(2);
  s.bind(3, r.package.model_id).bind(4, r.package.version).bind(5, r.previous.version);
  s.bind(6, r.target).bind(7, strategy_to_json(r.strategy)).bind(8, std::string(to_string(r.state)));
  s.bind(9, r.phase).bind(10, join_u32(r.phase_ends)).bind(11, r.created_at).bind(12, r.updated_at);
  s.bind(13, r.deadline_at).bind(14, r.soak_until).bind(15, r.reason).bind(16, r.acked_failures);
  s.bind(17, r.acked_attempted).bind(18, r.gate_override_phase).bind(19, r.gate_message);
  s.step();
  return sqlite3_last_insert_rowid(impl_->db);
}

void RolloutStore::save(const RolloutRecord& r, const std::vector<const NodeRecord*>& nodes) {
  Tx tx(impl_->db);
  {
    Stmt s(impl_->db,
           "UPDATE rollouts SET state=?, phase=?, phase_ends=?, updated_ms=?, deadline_ms=?, soak_until_ms=?, "
           "reason=?, acked_failures=?, acked_attempted=?, gate_override_phase=?, gate_message=? WHERE id=?");
    s.bind(1, std::string(to_string(r.state))).bind(2, r.phase).bind(3, join_u32(r.phase_ends));
    s.bind(4, r.updated_at).bind(5, r.deadline_at).bind(6, r.soak_until).bind(7, r.reason);
    s.bind(8, r.acked_failures).bind(9, r.acked_attempted).bind(10, r.gate_override_phase);
    s.bind(11, r.gate_message).bind(12, r.id);
    s.step();
    if (sqlite3_changes(impl_->db) != 1) throw StoreError("rollout " + std::to_string(r.id) + " is not in the store");
  }
  Stmt s(impl_->db,
         "INSERT OR REPLACE INTO rollout_nodes (rollout_id, node_id, ord, phase, state, reason, bytes_written, "
         "total_bytes, attempts, offered_ms, last_activity_ms, finished_ms, rollback, from_version) "
         "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  for (const NodeRecord* n : nodes) {
    s.bind(1, r.id).bind(2, n->node_id).bind(3, n->order).bind(4, n->phase);
    s.bind(5, std::string(to_string(n->state))).bind(6, n->reason).bind(7, n->bytes_written);
    s.bind(8, n->total_bytes).bind(9, n->attempts).bind(10, n->offered_at).bind(11, n->last_activity);
    s.bind(12, n->finished_at).bind(13, n->rollback ? 1 : 0).bind(14, n->from_version);
    s.step();
    s.reset();
  }
  tx.commit();
}

std::vector<RolloutRecord> RolloutStore::rollouts() {
  Stmt s(impl_->db, (std::string("SELECT ") + kRolloutColumns + " FROM rollouts ORDER BY id").c_str());
  std::vector<RolloutRecord> out;
  while (s.step()) out.push_back(read_rollout(s));
  return out;
}

std::optional<RolloutRecord> RolloutStore::rollout(int64_t id) {
  Stmt s(impl_->db, (std::string("SELECT ") + kRolloutColumns + " FROM rollouts WHERE id = ?").c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_rollout(s);
}

std::vector<NodeRecord> RolloutStore::rollout_nodes(int64_t rollout_id) {
  Stmt s(impl_->db,
         "SELECT node_id, ord, phase, state, reason, bytes_written, total_bytes, attempts, offered_ms, "
         "last_activity_ms, finished_ms, rollback, from_version FROM rollout_nodes WHERE rollout_id = ? ORDER BY ord");
  s.bind(1, rollout_id);
  std::vector<NodeRecord> out;
  while (s.step()) {
    NodeRecord n;
    n.node_id = s.text(0);
    n.order = static_cast<uint32_t>(s.i64(1));
    n.phase = static_cast<uint32_t>(s.i64(2));
    auto state = node_state_from_string(s.text(3));
    if (!state) throw StoreError("rollout store: node " + n.node_id + " has unknown state " + s.text(3));
    n.state = *state;
    n.reason = s.text(4);
    n.bytes_written = static_cast<uint32_t>(s.i64(5));
    n.total_bytes = static_cast<uint32_t>(s.i64(6));
    n.attempts = static_cast<uint32_t>(s.i64(7));
    n.offered_at = s.i64(8);
    n.last_activity = s.i64(9);
    n.finished_at = s.i64(10);
    n.rollback = s.i64(11) != 0;
    n.from_version = static_cast<uint32_t>(s.i64(12));
    out.push_back(std::move(n));
  }
  return out;
}

std::string strategy_to_json(const Strategy& s) {
  json j = {
      {"canary", s.canary.to_string()},
      {"waves", s.waves},
      {"max_failures", s.max_failures.to_string()},
      {"soak_ms", s.soak_ms},
      {"max_concurrent", s.max_concurrent},
      {"node_timeout_ms", s.node_timeout_ms},
      {"deadline_ms", s.deadline_ms},
      {"gate", to_json(s.gate)},
  };
  return j.dump();
}

Strategy strategy_from_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::invalid_argument("strategy: not a JSON object");
  Strategy s;
  try {
    if (j.contains("canary")) s.canary = parse_count_or_percent(j["canary"].get<std::string>(), "canary");
    if (j.contains("waves")) s.waves = j["waves"].get<std::vector<double>>();
    if (j.contains("max_failures")) {
      s.max_failures = parse_count_or_percent(j["max_failures"].get<std::string>(), "max_failures");
    }
    s.soak_ms = j.value("soak_ms", s.soak_ms);
    s.max_concurrent = j.value("max_concurrent", s.max_concurrent);
    s.node_timeout_ms = j.value("node_timeout_ms", s.node_timeout_ms);
    s.deadline_ms = j.value("deadline_ms", s.deadline_ms);
    if (j.contains("gate")) read_gate_bounds(j["gate"], s.gate);
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("strategy: ") + e.what());
  }
  validate(s);
  return s;
}

}  // namespace tinyedge::rollout
