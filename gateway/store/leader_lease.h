// Which gateway drives the rollouts when several share one store: exactly one holds the lease at a
// time. With SQLite there is one gateway, which always holds it. With PostgreSQL the lease is a
// session advisory lock on a connection of its own: the server releases it the moment that
// connection ends (the gateway stopped, was killed, or lost the network), and the next gateway
// to ask takes it over.
#pragma once
#include <memory>

#include "gateway/store/store.h"

namespace tinyedge::gateway {

class LeaderLease {
 public:
  virtual ~LeaderLease() = default;
  // True while this process holds the lease; takes it if it is free. Never throws: a database out
  // of reach means "not leading" until it answers again.
  virtual bool held() = 0;
};

std::unique_ptr<LeaderLease> open_leader_lease(const StoreOptions& options);

}  // namespace tinyedge::gateway
