// The link key this image proves its node id with on the serial bearer (32 bytes, provisioned at
// manufacture), built in at configure time (-DTINYEDGE_FW_LINK_KEY=<node>.key from
// `tinyedge keys link`); empty without one, and then the gateway never binds the node's link.
#pragma once
#include <cstdint>
#include <span>

namespace tinyedge::mps2 {

std::span<const uint8_t> built_in_link_key();

}  // namespace tinyedge::mps2
