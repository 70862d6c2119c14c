// Builds a gateway database of a given size fast: the gateway's own Store creates and migrates
// the schema, then nodes and events go in with direct prepared inserts in one transaction.
// Deterministic (seeded), so tests can reason about it and SQL can check it.
#pragma once
#include <cstdint>
#include <functional>
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

// One generated node and event: the SQLite and PostgreSQL generators write the same rows.
struct FleetNode {
  int64_t ref = 0;  // nodes.id
  std::string name;
  uint32_t model_version = 0;
  int64_t first_seen_ms = 0, last_seen_ms = 0;
  bool online = false;
};
struct FleetEvent {
  int64_t node_ref = 0;
  uint32_t seq = 0;
  int64_t at_ms = 0;
  uint32_t model_version = 0, label = 0, score = 0, latency_us = 0, sample_id = 0;
  std::string runners_up;
};
FleetNode fleet_node(const FleetSpec& spec, int64_t end_ms, size_t i);
// Calls `each` for the spec's events in id order (ids 1, 2, ...).
void for_each_fleet_event(const FleetSpec& spec, int64_t end_ms, const std::function<void(const FleetEvent&)>& each);
int64_t fleet_end_ms(const FleetSpec& spec);  // spec.end_ms, or now
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
