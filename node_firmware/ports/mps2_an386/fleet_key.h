// The fleet public key this image trusts for updates, built in at configure time
// (-DTINYEDGE_FW_FLEET_KEY=fleet.pub); empty without one, and then every offer is refused. And the
// rollback key (-DTINYEDGE_FW_ROLLBACK_KEY=rollback.pub), trusted for rollback grants only.
#pragma once
#include <cstdint>
#include <span>

#include "ota/keys.h"

namespace tinyedge::mps2 {

std::span<const uint8_t> built_in_fleet_key();
std::span<const uint8_t> built_in_rollback_key();

}  // namespace tinyedge::mps2
