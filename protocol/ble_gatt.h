// BLE GATT layout of a TinyEdge node: one service with an uplink characteristic (notify) and a
// downlink characteristic (write without response). Both carry the byte-stream framing of
// frame.h, fragmented to the negotiated ATT MTU minus 3 (20..244 bytes of value per packet).
#pragma once
#include <cstddef>
#include <string_view>

namespace tinyedge::protocol::ble {

inline constexpr std::string_view kServiceUuid = "5e7a0001-3c1b-4d2e-9f6a-7b1e0d6c2a90";
inline constexpr std::string_view kUplinkCharacteristicUuid = "5e7a0002-3c1b-4d2e-9f6a-7b1e0d6c2a90";
inline constexpr std::string_view kDownlinkCharacteristicUuid = "5e7a0003-3c1b-4d2e-9f6a-7b1e0d6c2a90";

inline constexpr size_t kMinValueMtu = 20;   // ATT_MTU 23 - 3
inline constexpr size_t kMaxValueMtu = 244;  // ATT_MTU 247 - 3 (LE Data Length Extension)

}  // namespace tinyedge::protocol::ble
