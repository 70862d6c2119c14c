#include "gateway/store/postgres/pg_rollout_store.h"

#include <nlohmann/json.hpp>

#include "gateway/store/postgres/migrations.h"

namespace tinyedge::gateway {

using rollout::ModelRow;
using rollout::NodeRecord;
using rollout::RolloutRecord;
using rollout::StoreError;

namespace {

using json = nlohmann::json;

constexpr const char* kModelColumns =
    "id, model_id, version, name, payload_size, payload_sha256, key_id, hardware, created_at, uploaded_ms";

ModelRow read_model(const pg::Result& r, int i) {
  ModelRow row;
  row.id = r.int64(i, 0);
  row.model_id = static_cast<uint32_t>(r.int64(i, 1));
  row.version = static_cast<uint32_t>(r.int64(i, 2));
  row.name = r.text(i, 3);
  row.payload_size = static_cast<uint32_t>(r.int64(i, 4));
  row.payload_sha256 = r.text(i, 5);
  row.key_id = r.text(i, 6);
  for (const auto& h : json::parse(r.text(i, 7))) row.hardware.push_back(h.get<std::string>());
  row.created_at = static_cast<uint64_t>(r.int64(i, 8));
  row.uploaded_ms = r.int64(i, 9);
  return row;
}

std::optional<ModelRow> one_model(const pg::Result& r) {
  if (r.rows() == 0) return std::nullopt;
  return read_model(r, 0);
}

constexpr const char* kRolloutColumns =
    "id, model_ref, previous_ref, model_id, version, previous_version, target, strategy, state, phase, phase_ends, "
    "created_ms, updated_ms, deadline_ms, soak_until_ms, reason, acked_failures, acked_attempted, "
    "gate_override_phase, gate_message";

RolloutRecord read_rollout(const pg::Result& r, int i) {
  RolloutRecord out;
  out.id = r.int64(i, 0);
  out.package = {r.int64(i, 1), static_cast<uint32_t>(r.int64(i, 3)), static_cast<uint32_t>(r.int64(i, 4))};
  if (!r.is_null(i, 2)) {
    out.previous = {r.int64(i, 2), static_cast<uint32_t>(r.int64(i, 3)), static_cast<uint32_t>(r.int64(i, 5))};
  }
  out.target = r.text(i, 6);
  out.strategy = rollout::strategy_from_json(r.text(i, 7));
  auto state = rollout::rollout_state_from_string(r.text(i, 8));
  if (!state)
    throw StoreError("rollout store: rollout " + std::to_string(out.id) + " has unknown state " + r.text(i, 8));
  out.state = *state;
  out.phase = static_cast<uint32_t>(r.int64(i, 9));
  out.phase_ends = rollout::split_u32(r.text(i, 10));
  out.created_at = r.int64(i, 11);
  out.updated_at = r.int64(i, 12);
  out.deadline_at = r.int64(i, 13);
  out.soak_until = r.int64(i, 14);
  out.reason = r.text(i, 15);
  out.acked_failures = static_cast<uint32_t>(r.int64(i, 16));
  out.acked_attempted = static_cast<uint32_t>(r.int64(i, 17));
  out.gate_override_phase = static_cast<int32_t>(r.int64(i, 18));
  out.gate_message = r.text(i, 19);
  return out;
}

}  // namespace

// Every PostgreSQL failure leaves as the repository's own error, naming what failed; a connection
// the server dropped is dialled again on the next call.
template <typename F>
auto PgRolloutStore::guarded(F&& f) -> decltype(f()) {
  std::lock_guard lock(mutex_);
  try {
    if (!db_->ok()) db_->reconnect();
    return f();
  } catch (const pg::Error& e) {
    throw StoreError(std::string("rollout store: ") + e.what());
  }
}

PgRolloutStore::PgRolloutStore(const std::string& url) {
  try {
    db_ = std::make_unique<pg::Connection>(url);
    db_->exec("SET synchronous_commit = on");
    pg::migrate(*db_);
  } catch (const pg::Error& e) {
    throw StoreError(std::string("rollout store: ") + e.what());
  }
}

PgRolloutStore::~PgRolloutStore() = default;

int64_t PgRolloutStore::insert_model(const ModelRow& row, const std::vector<uint8_t>& package_bytes) {
  return guarded([&] {
    json hardware = row.hardware;
    const auto r = db_->query(
        "INSERT INTO models (model_id, version, name, payload_size, payload_sha256, key_id, hardware, created_at, "
        "uploaded_ms, package) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT (model_id, version) DO NOTHING RETURNING id",
        pg::Params()
            .add(int64_t{row.model_id})
            .add(int64_t{row.version})
            .add(row.name)
            .add(int64_t{row.payload_size})
            .add(row.payload_sha256)
            .add(row.key_id)
            .add(hardware.dump())
            .add(static_cast<int64_t>(row.created_at))
            .add(row.uploaded_ms)
            .bytes(package_bytes));
    if (r.rows() == 0) {
      throw StoreError("model " + std::to_string(row.model_id) + " v" + std::to_string(row.version) +
                       " is already in the registry");
    }
    return r.int64(0, 0);
  });
}

std::vector<ModelRow> PgRolloutStore::models() {
  return guarded([&] {
    const auto r = db_->query(std::string("SELECT ") + kModelColumns + " FROM models ORDER BY model_id, version");
    std::vector<ModelRow> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_model(r, i));
    return out;
  });
}

std::optional<ModelRow> PgRolloutStore::model(int64_t id) {
  return guarded([&] {
    return one_model(
        db_->query(std::string("SELECT ") + kModelColumns + " FROM models WHERE id = $1", pg::Params().add(id)));
  });
}

std::optional<ModelRow> PgRolloutStore::model_by_version(uint32_t model_id, uint32_t version) {
  return guarded([&] {
    return one_model(
        db_->query(std::string("SELECT ") + kModelColumns + " FROM models WHERE model_id = $1 AND version = $2",
                   pg::Params().add(int64_t{model_id}).add(int64_t{version})));
  });
}

std::optional<ModelRow> PgRolloutStore::previous_model(uint32_t model_id, uint32_t version) {
  return guarded([&] {
    return one_model(db_->query(std::string("SELECT ") + kModelColumns +
                                    " FROM models WHERE model_id = $1 AND version < $2 ORDER BY version DESC LIMIT 1",
                                pg::Params().add(int64_t{model_id}).add(int64_t{version})));
  });
}

std::vector<uint8_t> PgRolloutStore::package_bytes(int64_t id) {
  return guarded([&] {
    const auto r = db_->query("SELECT package FROM models WHERE id = $1", pg::Params().add(id));
    if (r.rows() == 0) throw StoreError("model " + std::to_string(id) + " is not in the registry");
    return r.bytes(0, 0);
  });
}

int64_t PgRolloutStore::insert_delta(const rollout::DeltaRow& row, const std::vector<uint8_t>& package_bytes) {
  return guarded([&] {
    pg::Params params;
    params.add(row.model_ref).add(row.base_sha256);
    if (row.base_ref)
      params.add(row.base_ref);
    else
      params.null();
    params.add(int64_t{row.wire_size}).add(row.uploaded_ms).bytes(package_bytes);
    const auto r = db_->query(
        "INSERT INTO model_deltas (model_ref, base_sha256, base_ref, wire_size, uploaded_ms, package) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (model_ref, base_sha256) DO NOTHING RETURNING id",
        params);
    if (r.rows() == 0) {
      throw StoreError("a delta of registry entry " + std::to_string(row.model_ref) + " from base " +
                       row.base_sha256.substr(0, 16) + "... is already in the registry");
    }
    return r.int64(0, 0);
  });
}

std::vector<rollout::DeltaRow> PgRolloutStore::deltas() {
  return guarded([&] {
    const auto r = db_->query(
        "SELECT d.id, d.model_ref, d.base_sha256, COALESCE(d.base_ref, 0), COALESCE(b.version, 0), d.wire_size, "
        "d.uploaded_ms FROM model_deltas d LEFT JOIN models b ON b.id = d.base_ref ORDER BY d.model_ref, d.id");
    std::vector<rollout::DeltaRow> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back({r.int64(i, 0), r.int64(i, 1), r.text(i, 2), r.int64(i, 3), static_cast<uint32_t>(r.int64(i, 4)),
                     static_cast<uint32_t>(r.int64(i, 5)), r.int64(i, 6)});
    }
    return out;
  });
}

std::vector<uint8_t> PgRolloutStore::delta_package_bytes(int64_t delta_id) {
  return guarded([&] {
    const auto r = db_->query("SELECT package FROM model_deltas WHERE id = $1", pg::Params().add(delta_id));
    if (r.rows() == 0) throw StoreError("delta " + std::to_string(delta_id) + " is not in the registry");
    return r.bytes(0, 0);
  });
}

int64_t PgRolloutStore::insert_rollout(const RolloutRecord& r) {
  return guarded([&] {
    pg::Params p;
    p.add(r.package.registry_id);
    if (r.previous.registry_id)
      p.add(r.previous.registry_id);
    else
      p.null();
    p.add(int64_t{r.package.model_id}).add(int64_t{r.package.version}).add(int64_t{r.previous.version});
    p.add(r.target).add(rollout::strategy_to_json(r.strategy)).add(rollout::to_string(r.state));
    p.add(int64_t{r.phase}).add(rollout::join_u32(r.phase_ends)).add(r.created_at).add(r.updated_at);
    p.add(r.deadline_at).add(r.soak_until).add(r.reason).add(int64_t{r.acked_failures});
    p.add(int64_t{r.acked_attempted}).add(int64_t{r.gate_override_phase}).add(r.gate_message);
    return db_
        ->query(
            "INSERT INTO rollouts (model_ref, previous_ref, model_id, version, previous_version, target, strategy, "
            "state, phase, phase_ends, created_ms, updated_ms, deadline_ms, soak_until_ms, reason, acked_failures, "
            "acked_attempted, gate_override_phase, gate_message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
            "$11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id",
            p)
        .int64(0, 0);
  });
}

void PgRolloutStore::save(const RolloutRecord& r, const std::vector<const NodeRecord*>& nodes) {
  guarded([&] {
    pg::Transaction tx(*db_);
    pg::Params p;
    p.add(rollout::to_string(r.state)).add(int64_t{r.phase}).add(rollout::join_u32(r.phase_ends));
    p.add(r.updated_at).add(r.deadline_at).add(r.soak_until).add(r.reason);
    p.add(int64_t{r.acked_failures}).add(int64_t{r.acked_attempted}).add(int64_t{r.gate_override_phase});
    p.add(r.gate_message).add(r.id);
    const auto updated = db_->query(
        "UPDATE rollouts SET state=$1, phase=$2, phase_ends=$3, updated_ms=$4, deadline_ms=$5, soak_until_ms=$6, "
        "reason=$7, acked_failures=$8, acked_attempted=$9, gate_override_phase=$10, gate_message=$11 WHERE id=$12",
        p);
    if (updated.affected() != 1) throw StoreError("rollout " + std::to_string(r.id) + " is not in the store");
    for (const NodeRecord* n : nodes) {
      pg::Params q;
      q.add(r.id).add(n->node_id).add(int64_t{n->order}).add(int64_t{n->phase});
      q.add(rollout::to_string(n->state)).add(n->reason).add(int64_t{n->bytes_written});
      q.add(int64_t{n->total_bytes}).add(int64_t{n->attempts}).add(n->offered_at).add(n->last_activity);
      q.add(n->finished_at).add(n->rollback ? "true" : "false").add(int64_t{n->from_version});
      q.add(n->offered_base).add(n->full_only ? "true" : "false");
      db_->query(
          "INSERT INTO rollout_nodes (rollout_id, node_id, ord, phase, state, reason, bytes_written, "
          "total_bytes, attempts, offered_ms, last_activity_ms, finished_ms, rollback, from_version, offered_base, "
          "full_only) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
          "ON CONFLICT (rollout_id, node_id) DO UPDATE SET ord = excluded.ord, phase = excluded.phase, "
          "state = excluded.state, reason = excluded.reason, bytes_written = excluded.bytes_written, "
          "total_bytes = excluded.total_bytes, attempts = excluded.attempts, offered_ms = excluded.offered_ms, "
          "last_activity_ms = excluded.last_activity_ms, finished_ms = excluded.finished_ms, "
          "rollback = excluded.rollback, from_version = excluded.from_version, "
          "offered_base = excluded.offered_base, full_only = excluded.full_only",
          q);
    }
    tx.commit();
  });
}

std::vector<RolloutRecord> PgRolloutStore::rollouts() {
  return guarded([&] {
    const auto r = db_->query(std::string("SELECT ") + kRolloutColumns + " FROM rollouts ORDER BY id");
    std::vector<RolloutRecord> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_rollout(r, i));
    return out;
  });
}

std::optional<RolloutRecord> PgRolloutStore::rollout(int64_t id) {
  return guarded([&]() -> std::optional<RolloutRecord> {
    const auto r =
        db_->query(std::string("SELECT ") + kRolloutColumns + " FROM rollouts WHERE id = $1", pg::Params().add(id));
    if (r.rows() == 0) return std::nullopt;
    return read_rollout(r, 0);
  });
}

std::vector<NodeRecord> PgRolloutStore::rollout_nodes(int64_t rollout_id) {
  return guarded([&] {
    const auto r = db_->query(
        "SELECT node_id, ord, phase, state, reason, bytes_written, total_bytes, attempts, offered_ms, "
        "last_activity_ms, finished_ms, rollback, from_version, offered_base, full_only FROM rollout_nodes "
        "WHERE rollout_id = $1 ORDER BY ord",
        pg::Params().add(rollout_id));
    std::vector<NodeRecord> out;
    for (int i = 0; i < r.rows(); ++i) {
      NodeRecord n;
      n.node_id = r.text(i, 0);
      n.order = static_cast<uint32_t>(r.int64(i, 1));
      n.phase = static_cast<uint32_t>(r.int64(i, 2));
      auto state = rollout::node_state_from_string(r.text(i, 3));
      if (!state) throw StoreError("rollout store: node " + n.node_id + " has unknown state " + r.text(i, 3));
      n.state = *state;
      n.reason = r.text(i, 4);
      n.bytes_written = static_cast<uint32_t>(r.int64(i, 5));
      n.total_bytes = static_cast<uint32_t>(r.int64(i, 6));
      n.attempts = static_cast<uint32_t>(r.int64(i, 7));
      n.offered_at = r.int64(i, 8);
      n.last_activity = r.int64(i, 9);
      n.finished_at = r.int64(i, 10);
      n.rollback = r.text(i, 11) == "t";
      n.from_version = static_cast<uint32_t>(r.int64(i, 12));
      n.offered_base = r.text(i, 13);
      n.full_only = r.text(i, 14) == "t";
      out.push_back(std::move(n));
    }
    return out;
  });
}

}  // namespace tinyedge::gateway

namespace tinyedge::gateway {
namespace {

const char* command_name(rollout::RolloutCommand::Kind kind) {
  using Kind = rollout::RolloutCommand::Kind;
  switch (kind) {
    case Kind::kPause:
      return "pause";
    case Kind::kResume:
      return "resume";
    case Kind::kAbort:
      return "abort";
    case Kind::kAbortRollback:
      return "abort-rollback";
    case Kind::kCancelNode:
      return "cancel-node";
  }
  return "?";
}

// The kind column is text: a per-node cancel is "cancel-node:<node id>", so the table needs no
// column of its own for the one command that names a node (and no migration).
std::string command_text(const rollout::RolloutCommand& command) {
  std::string text = command_name(command.kind);
  if (command.kind == rollout::RolloutCommand::Kind::kCancelNode) text += ":" + command.node_id;
  return text;
}

std::optional<rollout::RolloutCommand> command_from(int64_t rollout_id, const std::string& text) {
  using Kind = rollout::RolloutCommand::Kind;
  const size_t colon = text.find(':');
  const std::string name = text.substr(0, colon);
  for (Kind k : {Kind::kPause, Kind::kResume, Kind::kAbort, Kind::kAbortRollback, Kind::kCancelNode}) {
    if (name != command_name(k)) continue;
    if ((k == Kind::kCancelNode) != (colon != std::string::npos)) return std::nullopt;
    return rollout::RolloutCommand{rollout_id, k, colon == std::string::npos ? "" : text.substr(colon + 1)};
  }
  return std::nullopt;
}

}  // namespace

void PgRolloutStore::post_command(const rollout::RolloutCommand& command) {
  guarded([&] {
    db_->query("INSERT INTO rollout_commands (rollout_id, kind) VALUES ($1, $2)",
               pg::Params().add(command.rollout_id).add(command_text(command)));
  });
}

void PgRolloutStore::forward_uplink(const rollout::ForwardedUplink& uplink) {
  guarded([&] {
    db_->query("INSERT INTO rollout_uplinks (node_id, uplink, received_ms) VALUES ($1, $2, $3)",
               pg::Params().add(uplink.node_id).bytes(uplink.uplink).add(uplink.received_ms));
  });
}

rollout::RolloutMail PgRolloutStore::take_mail(size_t max_uplinks) {
  return guarded([&] {
    rollout::RolloutMail mail;
    // Taken and deleted in one transaction: a leader that dies before COMMIT leaves them for the next.
    pg::Transaction tx(*db_);
    const auto commands = db_->query(
        "WITH taken AS (DELETE FROM rollout_commands RETURNING id, rollout_id, kind) "
        "SELECT rollout_id, kind FROM taken ORDER BY id");
    for (int i = 0; i < commands.rows(); ++i) {
      if (auto command = command_from(commands.int64(i, 0), commands.text(i, 1))) mail.commands.push_back(*command);
    }
    const auto uplinks = db_->query(
        "WITH taken AS (DELETE FROM rollout_uplinks WHERE id IN (SELECT id FROM rollout_uplinks ORDER BY id "
        "LIMIT $1) RETURNING id, node_id, uplink, received_ms) "
        "SELECT node_id, uplink, received_ms FROM taken ORDER BY id",
        pg::Params().add(static_cast<int64_t>(max_uplinks)));
    for (int i = 0; i < uplinks.rows(); ++i) {
      mail.uplinks.push_back({uplinks.text(i, 0), uplinks.bytes(i, 1), uplinks.int64(i, 2)});
    }
    tx.commit();
    return mail;
  });
}

}  // namespace tinyedge::gateway
