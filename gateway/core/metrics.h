// Counters the gateway keeps while it runs. Writers bump atomics from any thread; readers (the
// dashboard's /metrics) take a snapshot. Everything counts up from start except the gauges.
#pragma once
#include <atomic>
#include <cstdint>

namespace tinyedge::gateway {

struct MetricsSnapshot {
  // Intake.
  uint64_t uplinks_in = 0;            // uplinks that passed validation
  uint64_t events_in = 0;             // inference results received (before dedup)
  uint64_t events_stored = 0;         // results newly written
  uint64_t duplicates = 0;            // results already stored (resends, QoS 1 redelivery)
  uint64_t decode_errors = 0;         // empty, oversized, undecodable, no payload, bad seq
  uint64_t oversized = 0;             // subset of decode_errors
  uint64_t invalid_fields = 0;        // subset of decode_errors: bad text, NUL in node id, score/label/enum out of range
  uint64_t identity_mismatches = 0;   // node id differs from topic / link binding
  uint64_t bad_topics = 0;            // messages on topics we cannot parse
  uint64_t dropped_queue_full = 0;    // uplinks refused because the store queue was full (not acked: node resends)
  uint64_t dropped_disk_full = 0;     // results uplinks refused while the disk is full (not acked: node resends)
  uint64_t dropped_store_unavailable = 0;  // results uplinks refused while the database is out of reach (not acked)
  uint64_t state_changes = 0;
  // Serial/BLE-bridge link authentication.
  uint64_t links_proven = 0;          // links that proved their node with its link key
  uint64_t link_proofs_failed = 0;    // wrong MAC, no key for the node, or refused while locked out
  uint64_t links_refused = 0;         // claimed a node already bound on another live link
  uint64_t unproven_uplinks = 0;      // uplinks dropped because their link had not proven itself
  // BLE central (bearer/ble).
  uint64_t ble_connected = 0;         // gauge: devices connected now
  uint64_t ble_connects = 0;          // connections made (Device1.Connect succeeded)
  uint64_t ble_connect_failures = 0;  // Connect failed or timed out, or the device lacks TinyEdge's GATT layout
  uint64_t ble_disconnects = 0;       // connections lost or closed
  uint64_t ble_identity_conflicts = 0;  // a device claimed a node id another device address holds
  uint64_t ble_reconnects = 0;          // connections to a device that had been linked before
  uint64_t ble_notifications = 0;       // uplink notifications handed to a link
  uint64_t ble_fragments_dropped = 0;   // notifications no link could take, and bad frames on BLE links
  uint64_t ble_devices_refused = 0;     // devices never connected again (claimed a node id another device holds)
  uint64_t ble_ota_bytes = 0;           // OTA chunk payload bytes written to BLE links
  // Store.
  uint64_t batches = 0;
  uint64_t batch_events_total = 0;    // sum of events per committed batch
  uint64_t batch_events_max = 0;
  uint64_t store_commit_us_total = 0; // wall time of committed transactions
  uint64_t store_commit_us_max = 0;
  uint64_t store_errors = 0;          // failed transactions (disk full, read-only, I/O)
  uint64_t store_disk_full_errors = 0;  // subset of store_errors: the file system had no room
  uint64_t retention_deleted = 0;
  uint64_t ack_gaps_skipped = 0;      // seqs given up on after ack_gap_timeout
  // Downlinks.
  uint64_t acks_sent = 0;
  uint64_t downlinks_sent = 0;
  uint64_t downlinks_unroutable = 0;
  // Gauges.
  uint64_t queue_depth = 0;           // items waiting for the writer
  uint64_t links_open = 0;            // serial/socket bearer links
  uint64_t mqtt_connected = 0;
  uint64_t store_disk_full = 0;       // 1 while the writer holds a batch it has no room to commit
  uint64_t store_unavailable = 0;     // 1 while the writer holds a batch because the database is out of reach
  uint64_t store_wal_bytes = 0;       // size of the write-ahead log after the last commit
  uint64_t ack_trackers = 0;          // (node, boot) ack trackers the store writer keeps in memory
};

class Metrics {
 public:
  struct Counter {
    std::atomic<uint64_t> value{0};
    void add(uint64_t n = 1) { value.fetch_add(n, std::memory_order_relaxed); }
    void set(uint64_t n) { value.store(n, std::memory_order_relaxed); }
    void max(uint64_t n) {
      uint64_t seen = value.load(std::memory_order_relaxed);
      while (n > seen && !value.compare_exchange_weak(seen, n, std::memory_order_relaxed)) {
      }
    }
    uint64_t get() const { return value.load(std::memory_order_relaxed); }
  };

  Counter uplinks_in, events_in, events_stored, duplicates, decode_errors, oversized, invalid_fields,
      identity_mismatches, bad_topics, dropped_queue_full, dropped_disk_full, state_changes, batches,
      batch_events_total, batch_events_max, store_commit_us_total, store_commit_us_max, store_errors,
      store_disk_full_errors, retention_deleted, ack_gaps_skipped, acks_sent, downlinks_sent, downlinks_unroutable,
      queue_depth, links_open, mqtt_connected, store_disk_full, store_wal_bytes, ack_trackers, links_proven,
      link_proofs_failed, links_refused, unproven_uplinks, dropped_store_unavailable, store_unavailable, ble_connected,
      ble_connects, ble_connect_failures, ble_disconnects, ble_identity_conflicts, ble_reconnects, ble_notifications,
      ble_fragments_dropped, ble_devices_refused, ble_ota_bytes;

  MetricsSnapshot snapshot() const;
};

}  // namespace tinyedge::gateway
