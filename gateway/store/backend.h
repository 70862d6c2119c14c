// The one place that picks a storage backend: StoreOptions::backend, "sqlite" (the embedded
// default: one file, no server) or "postgres" (several gateways on one database server).
#pragma once
#include <memory>

#include "gateway/core/log.h"
#include "gateway/core/metrics.h"
#include "gateway/store/query.h"
#include "gateway/store/store.h"

namespace tinyedge::gateway {

// Opens (creating and migrating if needed) the write side. Throws std::runtime_error naming the
// problem: an unknown backend, a file that cannot be opened, a server that refuses the login.
std::unique_ptr<Store> open_store(const StoreOptions& options, Metrics& metrics, Logger& log);
// A read connection of its own (for one thread at a time, see query.h).
std::unique_ptr<Query> open_query(const StoreOptions& options);
// Where the data lives, for logs: the file, or the server URL without its password.
std::string describe_store(const StoreOptions& options);

}  // namespace tinyedge::gateway
