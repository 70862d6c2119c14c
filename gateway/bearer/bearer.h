// The seam every link to nodes sits behind: the MQTT client, each serial/socket endpoint, each BLE
// adapter. The daemon holds a list of these, built from the config's "bearers" (bearer/bearers.h),
// and drives them all alike.
//
// What a bearer does, and through what:
//   uplinks in       Ingest::on_uplink(bytes, node it believes sent them, the link as DownlinkSink)
//   downlinks out    the DownlinkSink handed on with each uplink; the router sends through it
//   node link up/down  Ingest::on_state (MQTT's retained state) or Ingest::on_link (links that
//                    prove their node: serial, BLE)
//   metrics          status() here; shared counters in Metrics
// Every call into a bearer happens on the gateway's io_context thread.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinyedge::gateway {

struct BearerStatus {
  std::string name;
  uint64_t links_open = 0;             // connections up right now (MQTT: 1 while connected to the broker)
  uint64_t nodes_bound = 0;            // of those, links that proved their node (MQTT: not tracked, 0)
  std::vector<std::string> listening;  // what listeners actually bound ("tcp-listen:127.0.0.1:41234")
};

class Bearer {
 public:
  virtual ~Bearer() = default;

  // As configured: "mqtt", "tcp-listen:127.0.0.1:7001", "ble:hci0".
  virtual const std::string& name() const = 0;
  // Starts listening, dialling, scanning. Throws std::runtime_error (or ConfigError) naming the
  // endpoint and the problem when it cannot start at all; transient failures are retried inside.
  virtual void start() = 0;
  // Nothing that arrives from now on is handed to ingest (it is not acked, so nodes resend it).
  virtual void stop_intake() = 0;
  // After the store has flushed (its last acks have gone out): close links, disconnect.
  virtual void close() = 0;
  virtual BearerStatus status() const = 0;
};

}  // namespace tinyedge::gateway
