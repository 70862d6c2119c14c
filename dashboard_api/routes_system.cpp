// /healthz, /metrics (Prometheus text) and the OpenAPI document.
#include "dashboard_api/dashboard_api.h"
#include "dashboard_api/prometheus.h"

namespace tinyedge::dashboard {
namespace {

std::string gateway_prometheus(const gateway::MetricsSnapshot& m) {
  PrometheusWriter w;
  w.counter("tinyedge_uplinks_in_total", "Uplinks that passed validation", m.uplinks_in);
  w.counter("tinyedge_events_in_total", "Inference results received, before dedup", m.events_in);
  w.counter("tinyedge_events_stored_total", "Inference results newly written to the store", m.events_stored);
  w.counter("tinyedge_duplicates_total", "Results already stored (resends, QoS 1 redelivery)", m.duplicates);
  w.counter("tinyedge_decode_errors_total", "Uplinks dropped: empty, oversized, undecodable", m.decode_errors);
  w.counter("tinyedge_oversized_total", "Uplinks dropped for size", m.oversized);
  w.counter("tinyedge_invalid_fields_total",
            "Uplinks dropped for a field the protocol does not allow: bad text, NUL in a node id, score, label or "
            "OTA state out of range",
            m.invalid_fields);
  w.counter("tinyedge_identity_mismatches_total", "Uplinks whose node id differs from their topic or link",
            m.identity_mismatches);
  w.counter("tinyedge_bad_topics_total", "Messages on unparseable topics", m.bad_topics);
  w.counter("tinyedge_dropped_queue_full_total", "Uplinks refused with the store queue full", m.dropped_queue_full);
  w.counter("tinyedge_dropped_disk_full_total", "Results uplinks refused (unacked) while the disk was full",
            m.dropped_disk_full);
  w.counter("tinyedge_dropped_store_unavailable_total",
            "Results uplinks refused (unacked) while the database was out of reach", m.dropped_store_unavailable);
  w.counter("tinyedge_state_changes_total", "Online/offline transitions", m.state_changes);
  w.counter("tinyedge_store_batches_total", "Committed store transactions", m.batches);
  w.counter("tinyedge_store_batch_events_total", "Events over all committed batches", m.batch_events_total);
  w.gauge("tinyedge_store_batch_events_max", "Largest batch so far", static_cast<double>(m.batch_events_max));
  w.counter("tinyedge_store_commit_microseconds_total", "Wall time spent committing", m.store_commit_us_total);
  w.gauge("tinyedge_store_commit_microseconds_max", "Slowest commit so far",
          static_cast<double>(m.store_commit_us_max));
  w.counter("tinyedge_store_errors_total", "Failed store transactions", m.store_errors);
  w.counter("tinyedge_store_disk_full_errors_total", "Store transactions that failed for want of disk space",
            m.store_disk_full_errors);
  w.gauge("tinyedge_store_disk_full", "1 while the data directory has no room: results are held, not acked",
          static_cast<double>(m.store_disk_full));
  w.gauge("tinyedge_store_unavailable", "1 while the database cannot be reached: results are held, not acked",
          static_cast<double>(m.store_unavailable));
  w.gauge("tinyedge_store_wal_bytes", "Size of the SQLite write-ahead log after the last commit",
          static_cast<double>(m.store_wal_bytes));
  w.counter("tinyedge_retention_deleted_total", "Rows removed by retention", m.retention_deleted);
  w.counter("tinyedge_ack_gaps_skipped_total", "Missing seqs given up on", m.ack_gaps_skipped);
  w.counter("tinyedge_acks_sent_total", "Acks sent to nodes", m.acks_sent);
  w.counter("tinyedge_downlinks_sent_total", "Downlinks sent", m.downlinks_sent);
  w.counter("tinyedge_downlinks_unroutable_total", "Downlinks with no route to their node", m.downlinks_unroutable);
  w.gauge("tinyedge_store_queue_depth", "Items waiting for the store writer", static_cast<double>(m.queue_depth));
  w.counter("tinyedge_links_proven_total", "Serial/BLE-bridge links that proved their node with its link key",
            m.links_proven);
  w.counter("tinyedge_link_proofs_failed_total", "Link proofs refused (wrong MAC, no key, source locked out)",
            m.link_proofs_failed);
  w.counter("tinyedge_links_refused_total", "Links that claimed a node already bound on another live link",
            m.links_refused);
  w.counter("tinyedge_unproven_uplinks_total", "Uplinks dropped because their link had not proven its node",
            m.unproven_uplinks);
  w.gauge("tinyedge_links_open", "Serial/socket bearer links open", static_cast<double>(m.links_open));
  w.gauge("tinyedge_mqtt_connected", "1 while connected to the broker", static_cast<double>(m.mqtt_connected));
  // BLE central (gateway/bearer/ble).
  w.gauge("tinyedge_ble_connected", "BLE devices connected now", static_cast<double>(m.ble_connected));
  w.counter("tinyedge_ble_connections_total", "BLE connections made (Device1.Connect and GATT layout found)",
            m.ble_connects);
  w.counter("tinyedge_ble_reconnects_total", "BLE connections to a device that had been linked before",
            m.ble_reconnects);
  w.counter("tinyedge_ble_connect_failures_total", "BLE connects that failed, timed out or found no TinyEdge service",
            m.ble_connect_failures);
  w.counter("tinyedge_ble_disconnects_total", "BLE connections lost or closed", m.ble_disconnects);
  w.counter("tinyedge_ble_notifications_total", "BLE uplink notifications handed to a link", m.ble_notifications);
  w.counter("tinyedge_ble_fragments_dropped_total", "BLE notifications no link could take, and bad frames on BLE links",
            m.ble_fragments_dropped);
  w.counter("tinyedge_ble_devices_refused_total", "BLE devices refused for claiming a node id another device holds",
            m.ble_devices_refused);
  w.counter("tinyedge_ble_identity_conflicts_total", "Claims on a node id held by another BLE device",
            m.ble_identity_conflicts);
  w.counter("tinyedge_ble_ota_bytes_total", "OTA chunk payload bytes written to BLE links", m.ble_ota_bytes);
  w.gauge("tinyedge_ack_trackers", "Per-(node, boot) ack trackers held in memory", static_cast<double>(m.ack_trackers));
  return w.take();
}

// What /healthz answers while the store writer holds results back, gauge by gauge.
struct StoreFault {
  gateway::Metrics::Counter gateway::Metrics::*gauge;
  const char* status;
  const char* detail;
};
const StoreFault kStoreFaults[] = {
    {&gateway::Metrics::store_disk_full, "disk_full",
     "the data directory is full: results are not stored or acknowledged (nodes keep them); ingest resumes by "
     "itself once there is room"},
    {&gateway::Metrics::store_unavailable, "store_unavailable",
     "the database cannot be reached: results are not stored or acknowledged (nodes keep them); ingest resumes by "
     "itself once it answers again"},
};

}  // namespace

void DashboardApi::add_system_routes() {
  router_.add({.method = Method::kGet,
               .pattern = "/healthz",
               .role = Role::kNone,
               .tag = "system",
               .summary = "Liveness and store reachability; 503 with status disk_full or store_unavailable while "
                          "results cannot be stored",
               .handler = [this](const RouteContext&) {
                 nlohmann::json j = {{"status", "ok"}};
                 const auto* m = services_.gateway_metrics;
                 if (m) j["mqtt_connected"] = m->mqtt_connected.get() != 0;
                 // The writer's gauges first: while the store is out of reach, reading it would
                 // only fail (a 500) or hang, and the answer is already known.
                 for (const auto& fault : kStoreFaults) {
                   if (m && (m->*fault.gauge).get() != 0) {
                     j["status"] = fault.status;
                     j["detail"] = fault.detail;
                     return json_response(503, j);
                   }
                 }
                 try {
                   auto q = queries_.borrow();
                   j["events"] = q->event_count();
                 } catch (const std::exception& e) {
                   j["status"] = "store_unavailable";
                   j["detail"] = std::string("the store cannot be read: ") + e.what();
                   return json_response(503, j);
                 }
                 return json_response(200, j);
               }});
  router_.add({.method = Method::kGet,
               .pattern = "/metrics",
               .role = Role::kViewer,
               .tag = "system",
               .summary = "Prometheus text exposition: gateway counters, the HTTP server's own and the drift watches",
               .response_media_type = "text/plain; version=0.0.4",
               .handler = [this](const RouteContext&) {
                 std::string text;
                 if (services_.gateway_metrics) text = gateway_prometheus(services_.gateway_metrics->snapshot());
                 text += server_metrics_.prometheus();
                 if (services_.drift) text += drift_prometheus(*services_.drift);
                 return ApiResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(text), {}};
               }});
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/openapi.json",
               .role = Role::kNone,
               .tag = "system",
               .summary = "This API's OpenAPI 3 document, generated from the served route table",
               .handler = [this](const RouteContext&) { return json_text_response(200, openapi_); }});
}

}  // namespace tinyedge::dashboard
