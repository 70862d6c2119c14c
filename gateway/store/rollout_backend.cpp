#include "gateway/store/rollout_backend.h"

#include "gateway/store/postgres/pg_rollout_store.h"
#include "gateway/store/sqlite/sqlite_rollout_store.h"

namespace tinyedge::gateway {

std::unique_ptr<rollout::RolloutStore> open_rollout_store(const StoreOptions& options) {
  if (options.backend == "sqlite") return std::make_unique<SqliteRolloutStore>(options.path);
  if (options.backend == "postgres") return std::make_unique<PgRolloutStore>(options.url);
  throw rollout::StoreError("store.backend: '" + options.backend + "' is not \"sqlite\" or \"postgres\"");
}

}  // namespace tinyedge::gateway
