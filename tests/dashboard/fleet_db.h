// Builds a gateway database of a given size fast: the gateway's own Store creates and migrates
// the schema, then nodes and events go in with direct prepared inserts in one transaction.
// Deterministic (seeded), so tests can reason about it and SQL can check it.
#pragma once
#include <cstdint>
#include <string>

namespace tinyedge::dashboard::testing {

struct FleetSpec {
  size_t nodes = 50;
  size_t groups = 5;         // node i is in group "g<i % groups>" (and in "all")
  size_t events = 200'000;
  size_t labels = 10;
  int64_t end_ms = 0;        // events spread over [end_ms - span_ms, end_ms); 0: now
  int64_t span_ms = 86'400'000;
  uint64_t seed = 42;
};

std::string node_name(size_t i);
// Creates (or replaces) the database at `path`. Returns end_ms actually used.
int64_t build_fleet_db(const std::string& path, const FleetSpec& spec);
// The same database as build_fleet_db, copied from one built once per spec and test executable in
// `cache_dir`: CTest runs every case of a suite as a process of its own, so a suite-wide fixture
// would otherwise be rebuilt for each case. Processes running at once wait for the one building it.
// A spec with end_ms = 0 ("now") is built afresh. Returns end_ms.
int64_t copy_of_cached_fleet_db(const std::string& path, const FleetSpec& spec, const std::string& cache_dir);
// Appends `count` new events for `node` (newest), as a running gateway would. Returns their ids' max.
int64_t append_events(const std::string& path, const std::string& node, size_t count, int64_t at_ms);

}  // namespace tinyedge::dashboard::testing
