#include "gateway/store/backend.h"

#include <stdexcept>

#include "gateway/store/drift_baseline_store.h"
#include "gateway/store/postgres/pg_drift_baselines.h"
#include "gateway/store/postgres/pg_query.h"
#include "gateway/store/postgres/pg_store.h"
#include "gateway/store/sqlite/sqlite_drift_baselines.h"
#include "gateway/store/sqlite/sqlite_query.h"
#include "gateway/store/sqlite/sqlite_store.h"

namespace tinyedge::gateway {

namespace {

[[noreturn]] void unknown_backend(const StoreOptions& options) {
  throw std::runtime_error("store.backend: '" + options.backend + "' is not \"sqlite\" or \"postgres\"");
}

}  // namespace

std::unique_ptr<Store> open_store(const StoreOptions& options, Metrics& metrics, Logger& log) {
  if (options.backend == "sqlite") return std::make_unique<SqliteStore>(options, metrics, log);
  if (options.backend == "postgres") return std::make_unique<PgStore>(options, metrics, log);
  unknown_backend(options);
}

std::unique_ptr<Query> open_query(const StoreOptions& options) {
  if (options.backend == "sqlite") return std::make_unique<SqliteQuery>(options.path);
  if (options.backend == "postgres") return std::make_unique<PgQuery>(options.url);
  unknown_backend(options);
}

std::unique_ptr<DriftBaselineStore> open_drift_baseline_store(const StoreOptions& options) {
  if (options.backend == "sqlite") return std::make_unique<SqliteDriftBaselines>(options.path);
  if (options.backend == "postgres") return std::make_unique<PgDriftBaselines>(options.url);
  unknown_backend(options);
}

std::string describe_store(const StoreOptions& options) {
  if (options.backend == "sqlite") return options.path;
  return pg::redact_url(options.url);
}

}  // namespace tinyedge::gateway
