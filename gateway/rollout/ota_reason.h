// Names for the protocol's OTA enums, as stored and shown to operators.
#pragma once
#include <string_view>

#include "tinyedge.pb.h"

namespace tinyedge::rollout {

std::string_view ota_reason_name(tinyedge_v1_OtaReason reason);
std::string_view ota_state_name(tinyedge_v1_OtaState state);

}  // namespace tinyedge::rollout
