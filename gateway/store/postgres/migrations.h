// The PostgreSQL schema, as an ordered list of migrations applied at start (forward only; append,
// never edit one that has shipped). schema_migrations records what ran. Gateways starting together
// serialise on an advisory lock, so each migration runs once.
#pragma once
#include "gateway/store/postgres/connection.h"

namespace tinyedge::gateway::pg {

// Applies every migration the database lacks, each in its own transaction; returns how many.
// Throws Error if one fails (that one changes nothing) or if the database is newer than this build.
int migrate(Connection& connection);

// Events are partitioned by inference time (at_ms), one partition per UTC day.
inline constexpr int64_t kPartitionMs = 86'400'000;

}  // namespace tinyedge::gateway::pg
