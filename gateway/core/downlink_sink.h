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

// How bulk transfers (OTA chunks) should be cut and paced over one link. Zeros: no preference (the
// OTA server's defaults; the node's own window).
struct BulkShape {
  uint32_t chunk_bytes = 0;  // largest Chunk.data worth sending at once on this link
  uint32_t window = 0;       // chunks a node may have requested and not received at once
  size_t max_backlog = 0;    // backlog() at which a bulk sender waits
};

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
  // Thread-safe: read by the rollout service when it offers an update and paces chunks.
  virtual BulkShape bulk_shape() const { return {}; }
  // A Chunk carrying `payload_bytes` of a package went out through send() (for the link's counters).
  virtual void bulk_payload_sent(size_t /*payload_bytes*/) {}
};

}  // namespace tinyedge::gateway
