// The way back to a node: whatever carried an uplink in (the MQTT client, one serial link, one BLE
// connection) is a DownlinkSink. Ingest hands it on with each accepted uplink and the router sends
// the node's downlinks through it. It lives in core/ because both ingest (which reports it) and the
// bearers (which implement it) name it, and neither may include the other.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace tinyedge::gateway {

class DownlinkSink {
 public:
  virtual ~DownlinkSink() = default;
  // Sends one encoded Downlink to `node_id`; false if the bearer cannot take it now.
  virtual bool send(const std::string& node_id, std::span<const uint8_t> payload) = 0;
  // "mqtt", "unix-listen:/run/x.sock#3", "ble:hci0/dev_..."...: stored as nodes.bearer.
  virtual const std::string& bearer_name() const = 0;
  // Downlinks taken but not delivered yet (MQTT publishes the broker has not acknowledged, GATT
  // writes queued behind the connection interval): bulk senders (OTA chunks) hold back while this
  // is deep.
  virtual size_t backlog() const { return 0; }
};

}  // namespace tinyedge::gateway
