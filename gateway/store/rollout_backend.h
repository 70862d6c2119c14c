// Picks the rollout repository's backend from the same store options as the events (backend.h).
#pragma once
#include <memory>

#include "gateway/rollout/rollout_store.h"
#include "gateway/store/store.h"

namespace tinyedge::gateway {

// A connection of its own. Throws rollout::StoreError naming the problem.
std::unique_ptr<rollout::RolloutStore> open_rollout_store(const StoreOptions& options);

}  // namespace tinyedge::gateway
