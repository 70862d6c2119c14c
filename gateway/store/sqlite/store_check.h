// The check an existing store passes before the gateway serves it.
#pragma once
#include <string>

#include "gateway/store/sqlite/database.h"
#include "gateway/store/store.h"

namespace tinyedge::gateway {

// Throws sql::Error (SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_SCHEMA...) whose message names the
// file, the table and SQLite's finding. Call after migrate().
void check_database(sql::Database& db, const std::string& path, StartupCheck depth);

}  // namespace tinyedge::gateway
