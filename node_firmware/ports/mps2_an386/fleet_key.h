// The fleet public key this image trusts for updates, built in at configure time
// (-DTINYEDGE_FW_FLEET_KEY=fleet.pub); empty without one, and then every offer is refused.
#pragma once
#include <cstdint>
#include <span>

#include "ota/keys.h"

namespace tinyedge::mps2 {

std::span<const uint8_t> built_in_fleet_key();

}  // namespace tinyedge::mps2
