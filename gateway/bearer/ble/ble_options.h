// The "ble:" entry of the gateway's bearer list:
//   ble:hci0                                       defaults below
//   ble:hci0?max_connections=8&rssi=-85&connect_timeout_ms=10000&backoff_max_ms=30000
// Scan filter: TinyEdge's GATT service UUID (protocol/ble_gatt.h), LE transport, and, when
// rssi is given, devices heard weaker than it are not reported by the adapter.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tinyedge::gateway::ble {

struct BleOptions {
  std::string text;              // as configured
  std::string adapter = "hci0";  // /org/bluez/<adapter>
  uint32_t max_connections = 8;  // links at once (controllers manage ~8..20)
  std::optional<int16_t> rssi;   // SetDiscoveryFilter RSSI, dBm
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds backoff_min{500};    // first retry after a failed connect or a drop
  std::chrono::milliseconds backoff_max{30000};  // doubling up to this
};

// nullopt and `error` naming the problem for anything else.
std::optional<BleOptions> parse_ble_options(std::string_view text, std::string& error);

}  // namespace tinyedge::gateway::ble
