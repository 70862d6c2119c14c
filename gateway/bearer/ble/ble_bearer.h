// The BLE central bearer: the gateway talks to TinyEdge nodes over Bluetooth LE through BlueZ's
// documented D-Bus API on the system bus (bluetoothd owns org.bluez):
//   org.freedesktop.DBus.ObjectManager  GetManagedObjects, InterfacesAdded/Removed at "/"
//   org.bluez.Adapter1                  SetDiscoveryFilter({UUIDs, Transport, RSSI}), StartDiscovery
//   org.bluez.Device1                   Connect, Disconnect; Connected, ServicesResolved, UUIDs, Address
//   org.bluez.GattCharacteristic1       StartNotify (uplink), WriteValue type "command" (downlink),
//                                       UUID, MTU; notifications as PropertiesChanged of Value
// It scans for the TinyEdge service UUID (protocol/ble_gatt.h), connects to up to max_connections
// devices (each connect bounded by connect_timeout), runs one BleLink per connection (framing and
// link proof as on serial links), and reconnects with exponential back-off. It remembers which
// node id each device address proved, and refuses a device that claims an id another device holds.
//
// D-Bus library: sdbus-c++ (Debian's libsdbus-c++-dev, over libsystemd's sd-bus). Chosen over GDBus
// because its connection can be driven from our own event loop (DbusPump: its fd and timeout on
// the io_context, no GMainLoop thread and no hand-off between loops), it is C++ with RAII proxies
// and typed arguments, and the same library serves the test's stand-in for bluetoothd. sd-bus
// honours DBUS_SYSTEM_BUS_ADDRESS, so a test points the unchanged code at a private bus.
#pragma once
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "gateway/bearer/bearer.h"
#include "gateway/bearer/ble/ble_options.h"
#include "gateway/bearer/link_auth.h"
#include "gateway/ingest/ingest.h"

namespace tinyedge::gateway::ble {

class BleBearer final : public Bearer {
 public:
  BleBearer(boost::asio::io_context& io, BleOptions options, Ingest& ingest, LinkAuthenticator& auth, Metrics& metrics,
            Logger& log);
  ~BleBearer() override;

  const std::string& name() const override;
  // Connects to the system bus and starts discovery once the adapter is there. Throws
  // std::runtime_error naming the bus problem when there is no system bus at all.
  void start() override;
  // Stops discovery and drops every connection.
  void stop_intake() override;
  void close() override { stop_intake(); }
  BearerStatus status() const override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tinyedge::gateway::ble
