#include "gateway/store/postgres/migrations.h"

#include <string>

#include "gateway/store/latency_bucket_sql.h"

namespace tinyedge::gateway::pg {
namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Timestamps are Unix milliseconds, as in the SQLite schema; nodes.id is the compact key the other
// tables refer to. events has no UNIQUE (node_ref, boot_id, seq) (PostgreSQL wants the partition
// key in every unique index of a partitioned table, and a result resent a day later lands in
// another partition): the writer refuses a result already stored by the per-boot record in acks,
// which it locks after copying the batch's events in and before its commit (pg_store.cpp).
constexpr Migration kMigrations[] = {
    {1, "initial schema", R"sql(
CREATE TABLE nodes (
  id BIGSERIAL PRIMARY KEY,
  node_id TEXT NOT NULL UNIQUE,
  hardware TEXT,
  firmware_version BIGINT,
  model_id BIGINT,
  model_version BIGINT,
  model_name TEXT,
  slot_bytes BIGINT,
  arena_bytes BIGINT,
  key_id TEXT,
  boot_id BIGINT,
  bearer TEXT,
  first_seen_ms BIGINT NOT NULL,
  last_seen_ms BIGINT NOT NULL,
  online BOOLEAN NOT NULL DEFAULT FALSE,
  state_changed_ms BIGINT
);
CREATE TABLE node_groups (
  node_ref BIGINT NOT NULL REFERENCES nodes(id),
  group_name TEXT NOT NULL,
  PRIMARY KEY (group_name, node_ref)
);
CREATE INDEX node_groups_by_node ON node_groups(node_ref);
CREATE SEQUENCE events_id_seq AS BIGINT;
CREATE TABLE events (
  id BIGINT NOT NULL DEFAULT nextval('events_id_seq'),
  node_ref BIGINT NOT NULL,
  boot_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  at_ms BIGINT NOT NULL,
  received_ms BIGINT NOT NULL,
  model_id BIGINT NOT NULL,
  model_version BIGINT NOT NULL,
  label INTEGER NOT NULL,
  score INTEGER NOT NULL,
  runners_up TEXT,
  latency_us BIGINT NOT NULL,
  sample_id BIGINT NOT NULL
) PARTITION BY RANGE (at_ms);
CREATE INDEX events_by_id ON events(id);
CREATE INDEX events_by_time ON events(at_ms, label, score, node_ref);
CREATE INDEX events_by_node_id ON events(node_ref, id);
CREATE TABLE telemetry (
  id BIGSERIAL PRIMARY KEY,
  node_ref BIGINT NOT NULL,
  boot_id BIGINT NOT NULL,
  received_ms BIGINT NOT NULL,
  uptime_s BIGINT, inferences BIGINT, free_ram_bytes BIGINT, last_latency_us BIGINT,
  dropped_results BIGINT, pending_results BIGINT, reconnects BIGINT, failed_inferences BIGINT
);
CREATE INDEX telemetry_by_time ON telemetry(received_ms);
CREATE TABLE ota_status (
  id BIGSERIAL PRIMARY KEY,
  node_ref BIGINT NOT NULL,
  boot_id BIGINT NOT NULL,
  received_ms BIGINT NOT NULL,
  model_id BIGINT, version BIGINT, state BIGINT, reason BIGINT,
  bytes_written BIGINT, total_bytes BIGINT, active_version BIGINT
);
CREATE INDEX ota_status_by_time ON ota_status(received_ms);
-- Per node boot: every seq stored (through_seq and the intervals above it, "a-b,c-d" half open)
-- and what the last Ack said (acked_seq: at least through_seq, more once a gap was given up on).
CREATE TABLE acks (
  node_ref BIGINT NOT NULL,
  boot_id BIGINT NOT NULL,
  through_seq BIGINT NOT NULL DEFAULT 0,
  above TEXT NOT NULL DEFAULT '',
  acked_seq BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (node_ref, boot_id)
);
CREATE TABLE models (
  id BIGSERIAL PRIMARY KEY,
  model_id BIGINT NOT NULL,
  version BIGINT NOT NULL,
  name TEXT NOT NULL,
  payload_size BIGINT NOT NULL,
  payload_sha256 TEXT NOT NULL,
  key_id TEXT NOT NULL,
  hardware TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  uploaded_ms BIGINT NOT NULL,
  package BYTEA NOT NULL,
  UNIQUE (model_id, version)
);
CREATE TABLE rollouts (
  id BIGSERIAL PRIMARY KEY,
  model_ref BIGINT NOT NULL REFERENCES models(id),
  previous_ref BIGINT REFERENCES models(id),
  model_id BIGINT NOT NULL,
  version BIGINT NOT NULL,
  previous_version BIGINT NOT NULL,
  target TEXT NOT NULL,
  strategy TEXT NOT NULL,
  state TEXT NOT NULL,
  phase BIGINT NOT NULL,
  phase_ends TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  deadline_ms BIGINT NOT NULL,
  soak_until_ms BIGINT NOT NULL,
  reason TEXT NOT NULL,
  acked_failures BIGINT NOT NULL,
  acked_attempted BIGINT NOT NULL,
  gate_override_phase BIGINT NOT NULL,
  gate_message TEXT NOT NULL
);
CREATE TABLE rollout_nodes (
  rollout_id BIGINT NOT NULL REFERENCES rollouts(id),
  node_id TEXT NOT NULL,
  ord BIGINT NOT NULL,
  phase BIGINT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  bytes_written BIGINT NOT NULL,
  total_bytes BIGINT NOT NULL,
  attempts BIGINT NOT NULL,
  offered_ms BIGINT NOT NULL,
  last_activity_ms BIGINT NOT NULL,
  finished_ms BIGINT NOT NULL,
  rollback BOOLEAN NOT NULL,
  from_version BIGINT NOT NULL,
  PRIMARY KEY (rollout_id, node_id)
);
)sql"},
    // The rollout leader's mailbox (gateway/rollout/rollout_mailbox.h): commands and rollout
    // uplinks that reached a gateway which does not lead, until the leader takes them.
    {2, "rollout mailbox", R"sql(
CREATE TABLE rollout_commands (
  id BIGSERIAL PRIMARY KEY,
  rollout_id BIGINT NOT NULL REFERENCES rollouts(id),
  kind TEXT NOT NULL
);
CREATE TABLE rollout_uplinks (
  id BIGSERIAL PRIMARY KEY,
  node_id TEXT NOT NULL,
  uplink BYTEA NOT NULL,
  received_ms BIGINT NOT NULL
);
)sql"},
    // Every result is refused or written under its boot's locked record in acks (pg_store.cpp),
    // the only check that spans days; the per-day unique key only repeated it within a day, and
    // it cost the most of any index on the write path (ON CONFLICT's speculative insertion for
    // each row). Days created from now on get no key.
    {3, "events without the per-day unique key", R"sql(
DO $$
DECLARE part record;
BEGIN
  FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'events'::regclass LOOP
    EXECUTE format('DROP INDEX IF EXISTS %I', part.relname || '_key');
  END LOOP;
END $$;
)sql"},
    // Label statistics' rollup (query.h, kRollupMs), written by each batch's transaction with its
    // events (pg_store.cpp) and dropped with their day by retention. writer: each gateway adds to
    // rows of its own, so two gateways never wait on each other's rollup rows; readers sum them.
    {4, "label statistics per minute", R"sql(
CREATE TABLE label_minutes (
  minute_ms BIGINT NOT NULL,
  label INTEGER NOT NULL,
  bin INTEGER NOT NULL,
  writer BIGINT NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (minute_ms, label, bin, writer)
);
INSERT INTO label_minutes SELECT at_ms / 60000 * 60000, label, GREATEST(0, LEAST(score / 32, 7)), 0, count(*)
  FROM events GROUP BY 1, 2, 3;
)sql"},
    // #16: each node's enrolled classes (replaced, per node, by every EnrollmentStatus it sends)
    // and the log of its answers, refusals with their reason code included.
    {5, "enrolled classes per node", R"sql(
CREATE TABLE enrolled_labels (
  node_ref BIGINT NOT NULL,
  label TEXT NOT NULL,
  position INTEGER NOT NULL,
  examples_used INTEGER NOT NULL DEFAULT 0,
  distance_q14 INTEGER NOT NULL DEFAULT 0,
  nearest_label TEXT NOT NULL DEFAULT '',
  enrolled_ms BIGINT NOT NULL,
  model_id BIGINT NOT NULL DEFAULT 0,
  model_version BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (node_ref, label)
);
CREATE TABLE enrollment_log (
  id BIGSERIAL PRIMARY KEY,
  node_ref BIGINT NOT NULL,
  received_ms BIGINT NOT NULL,
  action INTEGER NOT NULL,
  refusal INTEGER NOT NULL,
  label TEXT NOT NULL,
  examples_used BIGINT NOT NULL,
  distance_q14 BIGINT NOT NULL,
  nearest_label TEXT NOT NULL
);
CREATE INDEX enrollment_log_by_node ON enrollment_log(node_ref, id);
)sql"},
    // #22: delta packages beside the full package they install the same bytes as, one per base
    // model (its installed SHA-256).
    {6, "delta packages", R"sql(
CREATE TABLE model_deltas (
  id BIGSERIAL PRIMARY KEY,
  model_ref BIGINT NOT NULL REFERENCES models(id),
  base_sha256 TEXT NOT NULL,
  base_ref BIGINT REFERENCES models(id),
  wire_size BIGINT NOT NULL,
  uploaded_ms BIGINT NOT NULL,
  package BYTEA NOT NULL,
  UNIQUE (model_ref, base_sha256)
);
)sql"},
    // #24: the latency rollup (query.h, latency_bucket), as in SQLite's migration 9. Written by a
    // statement trigger from the rows each INSERT or COPY into events actually added (conflicts
    // skipped add none), in that statement's transaction; each connection adds to rows of its own
    // (writer: its backend pid) so two gateways never wait on each other's rows, and readers sum
    // them. Retention deletes a dropped day's rows with it (pg_store.cpp). The gateway's batches
    // COPY into the day's partition, which a statement trigger of events does not see, and add
    // their counts themselves (pg_store.cpp, write_latency_rollup): the trigger is for rows
    // written into events itself (the dashboard benchmark's fixtures).
    // clang-format off
    {7, "latency per model and minute", "CREATE TABLE latency_minutes ("
     "  model_id BIGINT NOT NULL, model_version BIGINT NOT NULL, minute_ms BIGINT NOT NULL,"
     "  bucket_us BIGINT NOT NULL, writer BIGINT NOT NULL, count BIGINT NOT NULL,"
     "  PRIMARY KEY (model_id, model_version, minute_ms, bucket_us, writer));"
     "INSERT INTO latency_minutes SELECT model_id, model_version, at_ms / 60000 * 60000, "
     TINYEDGE_LATENCY_BUCKET_SQL("latency_us") ", 0, count(*) FROM events GROUP BY 1, 2, 3, 4;"
     "CREATE FUNCTION events_into_latency_minutes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
     "  INSERT INTO latency_minutes AS l (model_id, model_version, minute_ms, bucket_us, writer, count)"
     "  SELECT model_id, model_version, at_ms / 60000 * 60000, " TINYEDGE_LATENCY_BUCKET_SQL("latency_us")
     ", pg_backend_pid(), count(*) FROM added GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
     "  ON CONFLICT (model_id, model_version, minute_ms, bucket_us, writer) DO UPDATE SET count = l.count + excluded.count;"
     "  RETURN NULL;"
     "END $$;"
     "CREATE TRIGGER events_into_latency_minutes AFTER INSERT ON events REFERENCING NEW TABLE AS added "
     "FOR EACH STATEMENT EXECUTE FUNCTION events_into_latency_minutes();"},
    // clang-format on
    // #16: the class a node reported (prototype, threshold, model hash), for sharing it
    {8, "shared class per enrolled label",
     "ALTER TABLE enrolled_labels ADD COLUMN shared_class TEXT NOT NULL DEFAULT '';"},
    // #22: per rollout node, the package it was offered (the delta's base hash, '' for the full
    // one) and whether it refused a delta: whichever gateway answers its chunk requests serves
    // that package, and a restart does not offer a refused delta again.
    {9, "offered package per rollout node",
     "ALTER TABLE rollout_nodes ADD COLUMN offered_base TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE rollout_nodes ADD COLUMN full_only BOOLEAN NOT NULL DEFAULT FALSE;"},
    // #22: the drift watch's baselines per model version and node group, shared by every gateway
    // (drift_baseline_store.h), as in SQLite's migration 12.
    {10, "drift baselines", R"sql(
CREATE TABLE drift_baselines (
  model_id BIGINT NOT NULL,
  model_version BIGINT NOT NULL,
  group_name TEXT NOT NULL,
  results BIGINT NOT NULL,
  result_baseline TEXT NOT NULL,
  periods BIGINT NOT NULL,
  input_baseline TEXT NOT NULL,
  updated_ms BIGINT NOT NULL,
  PRIMARY KEY (model_id, model_version, group_name)
);
)sql"},
    // #18: a batch copies its events in before it locks the boots' acks rows, and deletes the
    // copies another gateway's commit stored first (pg_store.cpp): their latency counts leave the
    // rollup with them, from this connection's rows the insert trigger added them to.
    // clang-format off
    {11, "latency rollup follows deleted events",
     "CREATE FUNCTION events_out_of_latency_minutes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
     "  INSERT INTO latency_minutes AS l (model_id, model_version, minute_ms, bucket_us, writer, count)"
     "  SELECT model_id, model_version, at_ms / 60000 * 60000, " TINYEDGE_LATENCY_BUCKET_SQL("latency_us")
     ", pg_backend_pid(), -count(*) FROM removed GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
     "  ON CONFLICT (model_id, model_version, minute_ms, bucket_us, writer) DO UPDATE SET count = l.count + excluded.count;"
     "  RETURN NULL;"
     "END $$;"
     "CREATE TRIGGER events_out_of_latency_minutes AFTER DELETE ON events REFERENCING OLD TABLE AS removed "
     "FOR EACH STATEMENT EXECUTE FUNCTION events_out_of_latency_minutes();"},
    // clang-format on
    // Each writer's claim on the event ids it is about to take (ingest_claims.h). UNLOGGED: no WAL
    // for two rows per batch, and a crash empties it, as it ends every writer's transaction too.
    {12, "claims of the event ids open batches hold",
     "CREATE UNLOGGED TABLE ingest_claims (pid INTEGER PRIMARY KEY, backend_start TIMESTAMPTZ NOT NULL, "
     "low_id BIGINT NOT NULL);"},
    // #18: label statistics per half hour beside the minutes (query.h, kCoarseRollupMs), written
    // by the same statement of each batch as label_minutes (pg_store.cpp, write_rollup: so the
    // copies a batch takes back leave both) and dropped with their day by retention. Filled from
    // the minutes, writer by writer: a pass over the rollup, not over the events.
    {13, "label statistics per half hour", R"sql(
CREATE TABLE label_half_hours (
  half_hour_ms BIGINT NOT NULL,
  label INTEGER NOT NULL,
  bin INTEGER NOT NULL,
  writer BIGINT NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (half_hour_ms, label, bin, writer)
);
INSERT INTO label_half_hours SELECT minute_ms / 1800000 * 1800000, label, bin, writer, sum(count)
  FROM label_minutes GROUP BY 1, 2, 3, 4;
CREATE INDEX nodes_by_model ON nodes(model_id, model_version);
)sql"},
    // Append new migrations here: {14, "...", "ALTER TABLE ...;"},
};

// Any constant the gateways agree on: the advisory lock that serialises their migrations.
constexpr int64_t kMigrationLock = 0x7e0d6e5c0001;

}  // namespace

int migrate(Connection& connection) {
  connection.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
      "applied_ms BIGINT NOT NULL)");
  Transaction lock(connection);
  connection.query("SELECT pg_advisory_xact_lock($1)", Params().add(kMigrationLock));
  const int current =
      static_cast<int>(connection.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").int64(0, 0));
  const int newest = kMigrations[std::size(kMigrations) - 1].version;
  if (current > newest) {
    throw Error("", false,
                "database schema version " + std::to_string(current) + " is newer than this gateway knows (" +
                    std::to_string(newest) + ")");
  }
  // All in the one transaction that holds the lock: PostgreSQL's DDL is transactional, so a
  // failing migration leaves the database as it was before it.
  int applied = 0;
  for (const auto& migration : kMigrations) {
    if (migration.version <= current) continue;
    connection.exec(migration.sql);
    connection.query(
        "INSERT INTO schema_migrations(version, name, applied_ms) VALUES ($1, $2, "
        "(extract(epoch from clock_timestamp()) * 1000)::bigint)",
        Params().add(int64_t{migration.version}).add(migration.name));
    ++applied;
  }
  lock.commit();
  return applied;
}

}  // namespace tinyedge::gateway::pg
