#include "gateway/store/sqlite/migrations.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gateway/store/latency_bucket_sql.h"
#include "gateway/store/sqlite/rollout_schema.h"

namespace tinyedge::gateway {
namespace {

// Timestamps are Unix milliseconds. nodes.id is the compact key every other table refers to.
constexpr Migration kMigrations[] = {
    {1, "initial schema", R"sql(
CREATE TABLE nodes (
  id INTEGER PRIMARY KEY,
  node_id TEXT NOT NULL UNIQUE,
  hardware TEXT,
  firmware_version INTEGER,
  model_id INTEGER,
  model_version INTEGER,
  model_name TEXT,
  slot_bytes INTEGER,
  arena_bytes INTEGER,
  key_id TEXT,
  boot_id INTEGER,
  bearer TEXT,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  online INTEGER NOT NULL DEFAULT 0,
  state_changed_ms INTEGER
);
CREATE TABLE node_groups (
  node_ref INTEGER NOT NULL REFERENCES nodes(id),
  group_name TEXT NOT NULL,
  PRIMARY KEY (group_name, node_ref)
) WITHOUT ROWID;
-- id is the pagination cursor: AUTOINCREMENT keeps it increasing even after retention.
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  node_ref INTEGER NOT NULL,
  boot_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  model_id INTEGER NOT NULL,
  model_version INTEGER NOT NULL,
  label INTEGER NOT NULL,
  score INTEGER NOT NULL,
  runners_up TEXT,
  latency_us INTEGER NOT NULL,
  sample_id INTEGER NOT NULL,
  UNIQUE (node_ref, boot_id, seq)
);
CREATE INDEX events_by_node_time ON events(node_ref, at_ms);
CREATE INDEX events_by_label_time ON events(label, at_ms);
CREATE TABLE telemetry (
  id INTEGER PRIMARY KEY,
  node_ref INTEGER NOT NULL,
  boot_id INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  uptime_s INTEGER, inferences INTEGER, free_ram_bytes INTEGER, last_latency_us INTEGER,
  dropped_results INTEGER, pending_results INTEGER, reconnects INTEGER
);
CREATE INDEX telemetry_by_node_time ON telemetry(node_ref, received_ms);
CREATE TABLE ota_status (
  id INTEGER PRIMARY KEY,
  node_ref INTEGER NOT NULL,
  boot_id INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  model_id INTEGER, version INTEGER, state INTEGER, reason INTEGER,
  bytes_written INTEGER, total_bytes INTEGER, active_version INTEGER
);
CREATE INDEX ota_status_by_node_time ON ota_status(node_ref, received_ms);
-- Highest contiguous durable seq per node boot: what the last Ack said.
CREATE TABLE acks (
  node_ref INTEGER NOT NULL,
  boot_id INTEGER NOT NULL,
  through_seq INTEGER NOT NULL,
  PRIMARY KEY (node_ref, boot_id)
) WITHOUT ROWID;
)sql"},
    {2, "model registry and rollouts", kRolloutSchemaSql},
    // The event log is read newest first by id: without this a node's last 100 events meant
    // sorting every event the node ever sent.
    {3, "events by node, newest first", "CREATE INDEX events_by_node_id ON events(node_ref, id);"},
    // Chosen from bench_dashboard's EXPLAIN QUERY PLAN of every /events filter and /stats shape:
    // - events_by_time: a time window (with or without label/score) answered from the index
    //   alone, for /stats/labels and for the ids of an /events page; node_ref rides along for the
    //   join that leaves unknown nodes out.
    // - events_by_label_id: a label's newest events without sorting all of them.
    // - events_by_node_time gains label and score: a node's or a group's stats without the table.
    {4, "events indexes for time windows, labels and stats", R"sql(
CREATE INDEX events_by_time ON events(at_ms, label, score, node_ref);
CREATE INDEX events_by_label_id ON events(label, id);
DROP INDEX events_by_node_time;
CREATE INDEX events_by_node_time ON events(node_ref, at_ms, label, score);
)sql"},
    {5, "telemetry: failed inferences", "ALTER TABLE telemetry ADD COLUMN failed_inferences INTEGER;"},
    // Label statistics' rollup (query.h, kRollupMs): the triggers keep it equal to the events in
    // the same transaction, whoever inserts (a row INSERT OR IGNORE refuses fires nothing) or
    // deletes them (retention). The insert trigger is one upsert (SQLite 3.40 keeps its DO UPDATE
    // under the writer's INSERT OR IGNORE); an INSERT OR IGNORE plus an UPDATE doubled the cost of
    // a row.
    {6, "label statistics per minute", R"sql(
CREATE TABLE label_minutes (
  minute_ms INTEGER NOT NULL,
  label INTEGER NOT NULL,
  bin INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (minute_ms, label, bin)
) WITHOUT ROWID;
INSERT INTO label_minutes SELECT at_ms / 60000 * 60000, label, max(0, min(score / 32, 7)), count(*)
  FROM events GROUP BY 1, 2, 3;
CREATE TRIGGER events_into_label_minutes AFTER INSERT ON events BEGIN
  INSERT INTO label_minutes VALUES (NEW.at_ms / 60000 * 60000, NEW.label, max(0, min(NEW.score / 32, 7)), 1)
    ON CONFLICT DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER events_out_of_label_minutes AFTER DELETE ON events BEGIN
  UPDATE label_minutes SET count = count - 1 WHERE minute_ms = OLD.at_ms / 60000 * 60000 AND label = OLD.label
    AND bin = max(0, min(OLD.score / 32, 7));
  DELETE FROM label_minutes WHERE minute_ms = OLD.at_ms / 60000 * 60000 AND label = OLD.label
    AND bin = max(0, min(OLD.score / 32, 7)) AND count <= 0;
END;
)sql"},
    // #16: each node's enrolled classes (replaced, per node, by every EnrollmentStatus it sends)
    // and the log of its answers, refusals with their reason code included.
    {7, "enrolled classes per node", R"sql(
CREATE TABLE enrolled_labels (
  node_ref INTEGER NOT NULL,
  label TEXT NOT NULL,
  position INTEGER NOT NULL,
  examples_used INTEGER NOT NULL DEFAULT 0,
  distance_q14 INTEGER NOT NULL DEFAULT 0,
  nearest_label TEXT NOT NULL DEFAULT '',
  enrolled_ms INTEGER NOT NULL,
  model_id INTEGER NOT NULL DEFAULT 0,
  model_version INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (node_ref, label)
) WITHOUT ROWID;
CREATE TABLE enrollment_log (
  id INTEGER PRIMARY KEY,
  node_ref INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  action INTEGER NOT NULL,
  refusal INTEGER NOT NULL,
  label TEXT NOT NULL,
  examples_used INTEGER NOT NULL,
  distance_q14 INTEGER NOT NULL,
  nearest_label TEXT NOT NULL
);
CREATE INDEX enrollment_log_by_node ON enrollment_log(node_ref, id);
)sql"},
    // #22: delta packages beside the full package they install the same bytes as.
    {8, "delta packages", kDeltaSchemaSql},
    // #24: the latency rollup (query.h, latency_bucket): the model page's day of latency read from
    // minutes instead of every event of the day. Kept by triggers like label_minutes; keyed by
    // model first, as the model page asks for one model version.
    // clang-format off
    {9, "latency per model and minute", "CREATE TABLE latency_minutes ("
     "  model_id INTEGER NOT NULL, model_version INTEGER NOT NULL, minute_ms INTEGER NOT NULL,"
     "  bucket_us INTEGER NOT NULL, count INTEGER NOT NULL,"
     "  PRIMARY KEY (model_id, model_version, minute_ms, bucket_us)) WITHOUT ROWID;"
     "INSERT INTO latency_minutes SELECT model_id, model_version, at_ms / 60000 * 60000, "
     TINYEDGE_LATENCY_BUCKET_SQL("latency_us") ", count(*) FROM events GROUP BY 1, 2, 3, 4;"
     "CREATE TRIGGER events_into_latency_minutes AFTER INSERT ON events BEGIN"
     "  INSERT INTO latency_minutes VALUES (NEW.model_id, NEW.model_version, NEW.at_ms / 60000 * 60000, "
     TINYEDGE_LATENCY_BUCKET_SQL("NEW.latency_us") ", 1) ON CONFLICT DO UPDATE SET count = count + 1;"
     "END;"
     "CREATE TRIGGER events_out_of_latency_minutes AFTER DELETE ON events BEGIN"
     "  UPDATE latency_minutes SET count = count - 1 WHERE model_id = OLD.model_id AND model_version = "
     "OLD.model_version AND minute_ms = OLD.at_ms / 60000 * 60000 AND bucket_us = "
     TINYEDGE_LATENCY_BUCKET_SQL("OLD.latency_us") ";"
     "  DELETE FROM latency_minutes WHERE model_id = OLD.model_id AND model_version = OLD.model_version "
     "AND minute_ms = OLD.at_ms / 60000 * 60000 AND bucket_us = " TINYEDGE_LATENCY_BUCKET_SQL("OLD.latency_us")
     " AND count <= 0;"
     "END;"},
    // clang-format on
    // #16: the class a node reported (prototype, threshold, model hash), for sharing it
    {10, "shared class per enrolled label",
     "ALTER TABLE enrolled_labels ADD COLUMN shared_class TEXT NOT NULL DEFAULT '';"},
    // #22: the package each rollout node was offered, and its refusal of a delta.
    {11, "offered package per rollout node", kOfferedPackageSql},
    // #22: the drift watch's baselines per model version and node group (drift_baseline_store.h),
    // each part as the watch encodes it beside the count it was learnt from.
    {12, "drift baselines", R"sql(
CREATE TABLE drift_baselines (
  model_id INTEGER NOT NULL,
  model_version INTEGER NOT NULL,
  group_name TEXT NOT NULL,
  results INTEGER NOT NULL,
  result_baseline TEXT NOT NULL,
  periods INTEGER NOT NULL,
  input_baseline TEXT NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (model_id, model_version, group_name)
) WITHOUT ROWID;
)sql"},
    // #18: label statistics per half hour beside the minutes (query.h, kCoarseRollupMs), so a day
    // reads 48 x labels x 8 rows instead of 1,440 x labels x 8. Kept by the same triggers as
    // label_minutes (one trigger, two upserts, cheaper than a second trigger per row), so both
    // follow every insert and every delete (retention) in the writer's transaction. Filled from
    // the minutes, which are exact: a pass over the rollup, not over the events.
    {13, "label statistics per half hour", R"sql(
CREATE TABLE label_half_hours (
  half_hour_ms INTEGER NOT NULL,
  label INTEGER NOT NULL,
  bin INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (half_hour_ms, label, bin)
) WITHOUT ROWID;
INSERT INTO label_half_hours SELECT minute_ms / 1800000 * 1800000, label, bin, sum(count)
  FROM label_minutes GROUP BY 1, 2, 3;
DROP TRIGGER events_into_label_minutes;
DROP TRIGGER events_out_of_label_minutes;
CREATE TRIGGER events_into_label_minutes AFTER INSERT ON events BEGIN
  INSERT INTO label_minutes VALUES (NEW.at_ms / 60000 * 60000, NEW.label, max(0, min(NEW.score / 32, 7)), 1)
    ON CONFLICT DO UPDATE SET count = count + 1;
  INSERT INTO label_half_hours VALUES (NEW.at_ms / 1800000 * 1800000, NEW.label, max(0, min(NEW.score / 32, 7)), 1)
    ON CONFLICT DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER events_out_of_label_minutes AFTER DELETE ON events BEGIN
  UPDATE label_minutes SET count = count - 1 WHERE minute_ms = OLD.at_ms / 60000 * 60000 AND label = OLD.label
    AND bin = max(0, min(OLD.score / 32, 7));
  DELETE FROM label_minutes WHERE minute_ms = OLD.at_ms / 60000 * 60000 AND label = OLD.label
    AND bin = max(0, min(OLD.score / 32, 7)) AND count <= 0;
  UPDATE label_half_hours SET count = count - 1 WHERE half_hour_ms = OLD.at_ms / 1800000 * 1800000
    AND label = OLD.label AND bin = max(0, min(OLD.score / 32, 7));
  DELETE FROM label_half_hours WHERE half_hour_ms = OLD.at_ms / 1800000 * 1800000 AND label = OLD.label
    AND bin = max(0, min(OLD.score / 32, 7)) AND count <= 0;
END;
CREATE INDEX nodes_by_model ON nodes(model_id, model_version);
)sql"},
    // Append new migrations here: {14, "...", "CREATE TABLE ...;"},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

int migrate(sql::Database& db, std::span<const Migration> list) {
  const int current = static_cast<int>(db.scalar("PRAGMA user_version"));
  const int newest = list.empty() ? 0 : list.back().version;
  if (current > newest) {
    throw sql::Error(SQLITE_MISMATCH, "database schema version " + std::to_string(current) +
                                          " is newer than this gateway knows (" + std::to_string(newest) + ")");
  }
  int applied = 0;
  for (const auto& migration : list) {
    if (migration.version <= current) continue;
    sql::Transaction transaction(db);
    db.exec(migration.sql);
    db.exec("PRAGMA user_version = " + std::to_string(migration.version));
    transaction.commit();
    ++applied;
  }
  return applied;
}

}  // namespace tinyedge::gateway
