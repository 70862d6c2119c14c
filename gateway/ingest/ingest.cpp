#include "gateway/ingest/ingest.h"

#include <pb_encode.h>

#include <cstring>

#include "protocol/topics.h"

namespace tinyedge::gateway {
namespace {

std::string hex(const uint8_t* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

std::string text(const char* field, size_t capacity) { return std::string(field, ::strnlen(field, capacity)); }

// The node's report of a class, re-encoded (the bytes a share signs), as hex for the store.
std::string shared_class_hex(const tinyedge_v1_SharedClass& shared) {
  uint8_t bytes[tinyedge_v1_SharedClass_size];
  pb_ostream_t out = pb_ostream_from_buffer(bytes, sizeof bytes);
  if (!pb_encode(&out, tinyedge_v1_SharedClass_fields, &shared)) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < out.bytes_written; ++i) {
    hex += kHex[bytes[i] >> 4];
    hex += kHex[bytes[i] & 15];
  }
  return hex;
}

}  // namespace

bool Ingest::should_log(size_t kind) {
  kind %= kKinds;
  const auto now = std::chrono::steady_clock::now();
  if (now - window_[kind] >= std::chrono::seconds(1)) {
    if (suppressed_[kind] > 0) {
      log_.warn("ingest", "bad input lines suppressed", {{"kind", kind}, {"suppressed", suppressed_[kind]}});
    }
    window_[kind] = now;
    logged_[kind] = 0;
    suppressed_[kind] = 0;
  }
  if (logged_[kind] < kLogBurst) {
    ++logged_[kind];
    return true;
  }
  ++suppressed_[kind];
  return false;
}

void Ingest::reject(std::string_view bearer, std::string_view what, std::string_view detail) {
  metrics_.decode_errors.add();
  if (should_log(kKinds - 1)) log_.warn("ingest", "dropped input", {{"bearer", bearer}, {"problem", what}, {"detail", detail}});
}

UplinkCheck Ingest::check(std::span<const uint8_t> bytes, std::string_view expected_node, std::string_view bearer) {
  const UplinkCheck check = check_uplink(bytes, expected_node, uplink_);
  if (check.error != UplinkError::kOk) {
    if (check.error == UplinkError::kIdentityMismatch) {
      metrics_.identity_mismatches.add();
    } else {
      metrics_.decode_errors.add();
      if (check.error == UplinkError::kOversized) metrics_.oversized.add();
      if (is_invalid_field(check.error)) metrics_.invalid_fields.add();
    }
    if (should_log(static_cast<size_t>(check.error))) {
      log_.warn("ingest", "dropped uplink",
                {{"problem", to_string(check.error)},
                 {"bearer", bearer},
                 {"expected_node", expected_node},
                 {"claimed_node", check.error == UplinkError::kIdentityMismatch ? node_id_of(uplink_) : ""},
                 {"bytes", bytes.size()},
                 {"detail", check.detail ? check.detail : ""}});
    }
  }
  return check;
}

UplinkCheck Ingest::on_uplink(std::span<const uint8_t> bytes, std::string_view expected_node,
                              const std::shared_ptr<DownlinkSink>& via) {
  const std::string& bearer = via->bearer_name();
  const UplinkCheck check = this->check(bytes, expected_node, bearer);
  if (check.error != UplinkError::kOk) return check;
  metrics_.uplinks_in.add();
  const std::string node(node_id_of(uplink_));
  const int64_t received = now_ms();
  accepted_.accepted(node, via);
  const auto& u = uplink_;
  bool queued = true;
  switch (check.kind) {
    case UplinkKind::kResults: {
      const auto& r = u.payload.results;
      ResultsItem item{node, u.boot_id, u.seq, r.model_id, r.model_version, received, bearer, {}};
      item.results.reserve(r.results_count);
      for (pb_size_t i = 0; i < r.results_count; ++i) {
        const auto& in = r.results[i];
        ResultRecord out{in.label, in.score, in.latency_us, in.age_ms, in.sample_id, {}};
        for (pb_size_t k = 0; k < in.runners_up_count; ++k) {
          out.runners_up.emplace_back(in.runners_up[k].label, in.runners_up[k].score);
        }
        item.results.push_back(std::move(out));
      }
      metrics_.events_in.add(r.results_count);
      queued = store_.submit(std::move(item));
      break;
    }
    case UplinkKind::kHello: {
      const auto& h = u.payload.hello;
      queued = store_.submit(HelloItem{node, u.boot_id, received, bearer, text(h.hardware, sizeof h.hardware),
                                       h.firmware_version, h.model_id, h.model_version, h.slot_bytes, h.arena_bytes,
                                       hex(h.key_id.bytes, h.key_id.size), text(h.model_name, sizeof h.model_name)});
      log_.info("ingest", "hello", {{"node", node}, {"boot_id", u.boot_id}, {"bearer", bearer},
                                    {"firmware", h.firmware_version}, {"model_id", h.model_id},
                                    {"model_version", h.model_version}});
      break;
    }
    case UplinkKind::kTelemetry: {
      const auto& t = u.payload.telemetry;
      queued = store_.submit(TelemetryItem{node, u.boot_id, received, bearer, t.uptime_s, t.inferences,
                                           t.free_ram_bytes, t.last_latency_us, t.dropped_results, t.pending_results,
                                           t.reconnects, t.failed_inferences});
      break;
    }
    case UplinkKind::kOtaStatus: {
      const auto& o = u.payload.ota_status;
      queued = store_.submit(OtaStatusItem{node, u.boot_id, received, bearer, o.model_id, o.version,
                                           static_cast<uint32_t>(o.state), static_cast<uint32_t>(o.reason),
                                           o.bytes_written, o.total_bytes, o.active_version});
      break;
    }
    case UplinkKind::kChunkRequest: break;  // not stored: the OTA server observes it
    case UplinkKind::kLinkProof: break;     // a bound link's repeated answer: says nothing new
    case UplinkKind::kEnrollmentStatus: {
      const auto& e = u.payload.enrollment_status;
      EnrollmentItem item{node,
                          u.boot_id,
                          received,
                          bearer,
                          static_cast<uint32_t>(e.action),
                          static_cast<uint32_t>(e.refusal),
                          text(e.label, sizeof e.label),
                          e.examples_used,
                          e.distance_q14,
                          text(e.nearest_label, sizeof e.nearest_label),
                          {},
                          e.model_id,
                          e.model_version,
                          {}};
      for (pb_size_t i = 0; i < e.enrolled_count; ++i)
        item.enrolled.push_back(text(e.enrolled[i], sizeof e.enrolled[i]));
      // Only the class the answer names, reported under that name (the validator checked it).
      if (e.has_shared && text(e.shared.label, sizeof e.shared.label) == item.label)
        item.shared_class = shared_class_hex(e.shared);
      const char* action = e.action == tinyedge_v1_EnrollCommand_Action_START     ? "start"
                           : e.action == tinyedge_v1_EnrollCommand_Action_REMOVE  ? "remove"
                           : e.action == tinyedge_v1_EnrollCommand_Action_SHARE   ? "share"
                           : e.action == tinyedge_v1_EnrollCommand_Action_DROPPED ? "dropped"
                                                                                  : "list";
      // A refusal is the operator's answer: a warning naming the reason, as the CLI prints it; so
      // is a class the node dropped by itself (a shared one, when its model changed).
      const bool dropped = e.action == tinyedge_v1_EnrollCommand_Action_DROPPED;
      const bool refused = e.refusal != tinyedge_v1_EnrollRefusal_ENROLL_OK;
      log_.log(refused ? LogLevel::kWarn : LogLevel::kInfo, "ingest",
               dropped   ? "enrolled class dropped by the node"
               : refused ? "enrollment refused"
                         : "enrollment",
               {{"node", node},
                {"action", action},
                {"label", item.label},
                {"result", enroll_refusal_text(static_cast<int32_t>(e.refusal))},
                {"examples", e.examples_used},
                {"distance_q14", e.distance_q14},
                {"nearest", item.nearest_label},
                {"enrolled", e.enrolled_count}});
      queued = store_.submit(std::move(item));
      break;
    }
  }
  if (!queued && should_log(kKinds - 2)) {
    log_.warn("ingest", "store queue full; uplink dropped (node will resend)", {{"node", node}});
  }
  // Observers act on Hello, Telemetry, OtaStatus and ChunkRequest; a repeated LinkProof is nothing to them.
  if (check.kind != UplinkKind::kResults && check.kind != UplinkKind::kLinkProof && !observers_.empty()) {
    const UplinkContext context{node, bearer, received, check.kind};
    for (const auto& observer : observers_) observer->on_uplink(context, uplink_);
  }
  return check;
}

void Ingest::on_state(std::string_view node_id, std::string_view payload) {
  bool online;
  if (payload == protocol::kStateOnline) online = true;
  else if (payload == protocol::kStateOffline) online = false;
  else {
    metrics_.decode_errors.add();
    if (should_log(kKinds - 3)) {
      log_.warn("ingest", "dropped state message", {{"node", node_id}, {"problem", "payload is not online/offline"},
                                                    {"bytes", payload.size()}});
    }
    return;
  }
  metrics_.state_changes.add();
  log_.info("ingest", online ? "node online" : "node offline", {{"node", node_id}});
  store_.submit(StateItem{std::string(node_id), online, now_ms()});
}

void Ingest::on_link(std::string_view node_id, bool up, std::string_view bearer) {
  metrics_.state_changes.add();
  log_.info("ingest", up ? "node link up" : "node link down", {{"node", node_id}, {"bearer", bearer}});
  store_.submit(StateItem{std::string(node_id), up, now_ms()});
}

}  // namespace tinyedge::gateway
