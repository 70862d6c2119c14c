#include "gateway/core/metrics.h"

namespace tinyedge::gateway {

MetricsSnapshot Metrics::snapshot() const {
  MetricsSnapshot s;
#define TE_COPY(field) s.field = field.get()
  TE_COPY(uplinks_in); TE_COPY(events_in); TE_COPY(events_stored); TE_COPY(duplicates); TE_COPY(decode_errors);
  TE_COPY(oversized); TE_COPY(identity_mismatches); TE_COPY(bad_topics); TE_COPY(dropped_queue_full); TE_COPY(dropped_disk_full);
  TE_COPY(state_changes); TE_COPY(batches); TE_COPY(batch_events_total); TE_COPY(batch_events_max);
  TE_COPY(store_commit_us_total); TE_COPY(store_commit_us_max); TE_COPY(store_errors); TE_COPY(store_disk_full_errors); TE_COPY(retention_deleted);
  TE_COPY(links_proven); TE_COPY(link_proofs_failed); TE_COPY(links_refused); TE_COPY(unproven_uplinks);
  TE_COPY(ack_gaps_skipped); TE_COPY(acks_sent); TE_COPY(downlinks_sent); TE_COPY(downlinks_unroutable);
  TE_COPY(queue_depth); TE_COPY(links_open); TE_COPY(mqtt_connected); TE_COPY(store_disk_full);
  TE_COPY(store_wal_bytes); TE_COPY(invalid_fields); TE_COPY(ack_trackers);
  TE_COPY(dropped_store_unavailable); TE_COPY(store_unavailable);
  TE_COPY(ble_connected); TE_COPY(ble_connects); TE_COPY(ble_connect_failures); TE_COPY(ble_disconnects);
  TE_COPY(ble_identity_conflicts);
  TE_COPY(ble_reconnects);
  TE_COPY(ble_notifications);
  TE_COPY(ble_fragments_dropped);
  TE_COPY(ble_devices_refused);
  TE_COPY(ble_ota_bytes);
#undef TE_COPY
  return s;
}

}  // namespace tinyedge::gateway
