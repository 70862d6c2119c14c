// The generated fleet of fleet_db.h in a PostgreSQL database, for benchmarks at 10M events: the
// gateway's PostgreSQL store creates the schema (every migration), the day partitions are made as
// the store makes them, and nodes, groups and events go in by COPY in one transaction.
#pragma once
#include <string>

#include "tests/dashboard/fleet_db.h"

namespace tinyedge::dashboard::testing {

// Fills the (empty) database at `url` with the same rows as build_fleet_db. Returns end_ms.
int64_t build_fleet_pg(const std::string& url, const FleetSpec& spec);

}  // namespace tinyedge::dashboard::testing
