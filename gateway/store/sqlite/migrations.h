// The schema, as an ordered list of migrations applied at start. PRAGMA user_version records the
// last one applied. To change the schema, append a Migration to kMigrations in migrations.cpp
// (next version number, forward-only SQL); never edit one that has shipped.
#pragma once
#include <span>
#include <string>

#include "gateway/store/sqlite/database.h"

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

}  // namespace tinyedge::gateway
