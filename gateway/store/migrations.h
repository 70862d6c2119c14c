// The schema, as an ordered list of migrations applied at start. PRAGMA user_version records the
// last one applied. To change the schema, append a Migration to kMigrations in migrations.cpp
// (next version number, forward-only SQL); never edit one that has shipped.
#pragma once
#include <span>
#include <string>

#include "gateway/store/sqlite.h"

namespace tinyedge::gateway {

struct Migration {
  int version;       // 1, 2, 3... in order
  const char* name;  // shown in the log
  const char* sql;   // one or more statements, run inside one transaction
};

std::span<const Migration> migrations();

// Applies every migration newer than the database's user_version, each in its own transaction.
// Returns the number applied. Throws sql::Error (and changes nothing for the failing one) if a
// migration fails, or if the database is newer than this build knows.
int migrate(sql::Database& db, std::span<const Migration> list = migrations());

// What the gateway checks of an existing file before it serves it.
enum class StartupCheck {
  // Bounded by fleet size, not by event count: the schema parses and holds the gateway's tables,
  // every small control table (nodes, groups, acks, models, rollouts...) passes integrity_check,
  // and the newest rows of the append-only logs (events, telemetry, ota_status: where the last
  // writes before a crash landed) read back. Damage deeper in a log surfaces later as
  // SQLITE_CORRUPT on the query that touches it.
  kBounded,
  // PRAGMA integrity_check over the whole file: O(file size), for an operator who suspects damage.
  kFull,
};

// Throws sql::Error (SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_SCHEMA...) whose message names the
// file, the table and SQLite's finding. Call after migrate().
void check_database(sql::Database& db, const std::string& path, StartupCheck depth);

}  // namespace tinyedge::gateway
