// A stand-in for bluetoothd on a private dbus-daemon, for testing the gateway's BLE central
// without a radio. It owns org.bluez and exposes what BlueZ documents and the central uses:
//   /                                     org.freedesktop.DBus.ObjectManager
//   /org/bluez/hci0                       org.bluez.Adapter1 (SetDiscoveryFilter, StartDiscovery,
//                                         StopDiscovery; Address, Powered, Discovering)
//   .../hci0/dev_XX_XX_XX_XX_XX_XX        org.bluez.Device1 (Connect, Disconnect; Address, Adapter,
//                                         UUIDs, RSSI, Connected, ServicesResolved, Name)
//   .../dev_XX/service000a                org.bluez.GattService1 (UUID, Primary, Device)
//   .../service000a/char000b, char000d    org.bluez.GattCharacteristic1 (StartNotify, StopNotify,
//                                         WriteValue; UUID, Service, Value, Notifying, Flags, MTU)
// Devices appear (InterfacesAdded) once discovery starts; GATT objects appear on Connect and go on
// disconnect, as for an unpaired device. Notifications are PropertiesChanged of Value.
//
// Each peripheral is the portable node app (node_firmware/app: Node over its FrameBearer, with its
// link key, and with `factory_model` its OTA client over an A/B slot store in memory) whose byte
// stream is this GATT server. The link model: once per connection interval a connection event
// carries packet exchanges, each one downlink write (central to peripheral) and one notification
// back, of at most ATT_MTU-3 bytes each; an event holds at most `packets_per_interval` exchanges
// and no more than fit its interval on the 1M PHY (ATT + L2CAP headers, LL framing, 150 us
// between packets; LE Data Length Extension assumed above ATT MTU 23). Writes wait in bluetoothd's
// queue for their exchange (WriteValue "command" returns once queued, as BlueZ's does) and are
// lost with the connection. Writes beyond ATT_MTU-3 are refused as on a real link. Everything
// (bus, link model, nodes) runs on one thread of its own.
#pragma once
#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ota/keys.h"

namespace tinyedge::test {

struct PeripheralSpec {
  std::string address;            // "C0:00:00:00:00:01"
  std::string node_id;            // what the node app calls itself
  std::array<uint8_t, 32> key{};  // its link key
  uint32_t boot_id = 1;
  uint16_t att_mtu = 23;
  std::chrono::microseconds interval{7500};      // connection interval
  uint32_t packets_per_interval = 4;             // notifications a connection event carries
  bool advertise_service = true;                 // UUIDs include TinyEdge's service
  std::chrono::milliseconds advertise_after{0};  // first heard this long after discovery starts
  bool garbage = false;                          // notifies random bytes instead of the node's frames
  int lose_notification = -1;                    // this (0-based) notification of the link's life is lost
  uint32_t results = 0;                          // stop sampling after this many results (0: never stop)
  uint32_t sample_interval_ms = 20;
  // OTA: the .tem the node boots with (empty: no OTA client, a fake engine) and the fleet keys.
  std::vector<uint8_t> factory_model;
  std::vector<ota::TrustedKey> fleet_keys;
  uint32_t drop_after_blocks = 0;  // drops the connection once, when the download journal holds this many blocks
};

struct PeripheralState {
  uint32_t produced = 0;  // results the node made (next_seq - 1)
  size_t unacked = 0;     // still in its ring
  uint32_t connections = 0;
  uint32_t notifications = 0;
  uint64_t notified_bytes = 0;
  uint32_t writes = 0;
  uint64_t written_bytes = 0;
  size_t max_write_queue = 0;  // writes waiting in "bluetoothd" for the air at once, at most
  uint32_t writes_lost = 0;    // queued writes that went with a dropped connection
  bool connected = false;
  // OTA (with a factory model).
  int ota_state = 0;   // tinyedge_v1_OtaState
  int ota_reason = 0;  // ota::Reason of the last failure or refusal
  uint32_t ota_blocks_done = 0;
  uint32_t ota_window = 0;  // the node's chunk requests outstanding at once for this download
  uint32_t active_model_version = 0;
  uint32_t running_model_version = 0;  // what the node's engine has loaded
  uint32_t activations = 0;
  uint32_t chunks_rejected = 0;
  uint32_t ota_drops = 0;        // drop_after_blocks fired
  uint64_t ota_download_us = 0;  // first DOWNLOADING to the last block written (0: not done yet)
};

class FakeBluez {
 public:
  // Starts a private dbus-daemon in `dir` and sets DBUS_SYSTEM_BUS_ADDRESS to it, so the
  // gateway's unchanged system-bus code reaches this process's org.bluez.
  FakeBluez(const std::string& dir, std::vector<PeripheralSpec> peripherals);
  ~FakeBluez();
  FakeBluez(const FakeBluez&) = delete;
  FakeBluez& operator=(const FakeBluez&) = delete;

  const std::string& bus_address() const { return address_; }
  PeripheralState state(size_t index);
  // The peripheral drops its connection (as when it walks out of range); it reconnects when the
  // central connects again.
  void drop(size_t index);
  void set_sampling(size_t index, bool on);
  // An absent peripheral is disconnected and its connection attempts fail (out of range).
  void set_present(size_t index, bool present);
  bool discovering();
  std::string error();  // the first failure inside the fake's thread, if any

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string address_;
  pid_t daemon_ = -1;
};

}  // namespace tinyedge::test
