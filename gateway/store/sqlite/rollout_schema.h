// The rollout tables in SQLite: the model registry, rollouts and their per-node records. The gateway applies
// this as one of its store migrations; SqliteRolloutStore runs it too (IF NOT EXISTS), so the rollout
// code also works on a database of its own (tests, tools).
#pragma once

namespace tinyedge::gateway {

inline constexpr const char* kRolloutSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS models (
  id INTEGER PRIMARY KEY,
  model_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  payload_size INTEGER NOT NULL,
  payload_sha256 TEXT NOT NULL,
  key_id TEXT NOT NULL,
  hardware TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  uploaded_ms INTEGER NOT NULL,
  package BLOB NOT NULL,
  UNIQUE (model_id, version)
);
CREATE TABLE IF NOT EXISTS rollouts (
  id INTEGER PRIMARY KEY,
  model_ref INTEGER NOT NULL REFERENCES models(id),
  previous_ref INTEGER REFERENCES models(id),
  model_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  previous_version INTEGER NOT NULL,
  target TEXT NOT NULL,
  strategy TEXT NOT NULL,
  state TEXT NOT NULL,
  phase INTEGER NOT NULL,
  phase_ends TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  deadline_ms INTEGER NOT NULL,
  soak_until_ms INTEGER NOT NULL,
  reason TEXT NOT NULL,
  acked_failures INTEGER NOT NULL,
  acked_attempted INTEGER NOT NULL,
  gate_override_phase INTEGER NOT NULL,
  gate_message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rollout_nodes (
  rollout_id INTEGER NOT NULL REFERENCES rollouts(id),
  node_id TEXT NOT NULL,
  ord INTEGER NOT NULL,
  phase INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  bytes_written INTEGER NOT NULL,
  total_bytes INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  offered_ms INTEGER NOT NULL,
  last_activity_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL,
  rollback INTEGER NOT NULL,
  from_version INTEGER NOT NULL,
  PRIMARY KEY (rollout_id, node_id)
) WITHOUT ROWID;
)sql";

// #22: delta packages beside the full package of the same target version, one per base model
// (its installed SHA-256). Its own statement so that SqliteRolloutStore creates it on databases
// migrated before it existed too; the gateway applies it as a migration.
inline constexpr const char* kDeltaSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS model_deltas (
  id INTEGER PRIMARY KEY,
  model_ref INTEGER NOT NULL REFERENCES models(id),
  base_sha256 TEXT NOT NULL,
  base_ref INTEGER REFERENCES models(id),
  wire_size INTEGER NOT NULL,
  uploaded_ms INTEGER NOT NULL,
  package BLOB NOT NULL,
  UNIQUE (model_ref, base_sha256)
);
)sql";

// #22: per rollout node, the package it was offered (the delta's base hash, "" for the full one)
// and whether it refused a delta, so a restarted gateway serves the chunks of the package the node
// is fetching and does not offer a refused delta again. The gateway applies it as a migration;
// SqliteRolloutStore adds the columns itself to a database of its own that lacks them.
inline constexpr const char* kOfferedPackageSql = R"sql(
ALTER TABLE rollout_nodes ADD COLUMN offered_base TEXT NOT NULL DEFAULT '';
ALTER TABLE rollout_nodes ADD COLUMN full_only INTEGER NOT NULL DEFAULT 0;
)sql";

}  // namespace tinyedge::gateway
