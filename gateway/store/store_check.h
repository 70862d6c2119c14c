// The check an existing store passes before the gateway serves it.
#pragma once
#include <string>

#include "gateway/store/sqlite.h"

namespace tinyedge::gateway {

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
