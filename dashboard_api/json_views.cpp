#include "dashboard_api/json_views.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "dashboard_api/api_types.h"
#include "gateway/rollout/ota_reason.h"

namespace tinyedge::dashboard {
namespace {

// One CSV field (RFC 4180) from store text: invalid UTF-8 replaced as json_text() does (the
// answer says charset=utf-8), quoted when it holds a separator, a quote or a line break. Node ids
// written by this gateway never need either, but the store may hold rows from older code.
std::string csv_field(const std::string& text) {
  const auto plain = [](char c) { return c >= 0x20 && c < 0x7F && c != ',' && c != '"'; };
  if (std::all_of(text.begin(), text.end(), plain)) return text;  // every id this gateway writes
  std::string value = nlohmann::json::parse(json_text(text)).get<std::string>();
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

}  // namespace

std::string iso8601(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

nlohmann::json to_json(const gateway::EventRow& e, const LabelList& labels) {
  nlohmann::json top = nlohmann::json::array();
  for (const auto& [label, score] : e.runners_up)
    top.push_back({{"label", label},
                   {"label_name", label_name(labels, label)},
                   {"score", score},
                   {"probability", probability(score)}});
  return {{"id", e.id},
          {"node", e.node_id},
          {"boot_id", e.boot_id},
          {"seq", e.seq},
          {"at_ms", e.at_ms},
          {"at", iso8601(e.at_ms)},
          {"received_ms", e.received_ms},
          {"model_id", e.model_id},
          {"model_version", e.model_version},
          {"label", e.label},
          {"label_name", label_name(labels, e.label)},
          {"score", e.score},
          {"probability", probability(e.score)},
          {"latency_us", e.latency_us},
          {"sample_id", e.sample_id},
          {"runners_up", top}};
}

nlohmann::json to_json(const gateway::NodeRow& n, int64_t now_ms) {
  return {{"id", n.node_id},
          {"status", n.online ? "online" : "offline"},
          {"hardware", n.hardware},
          {"firmware_version", n.firmware_version},
          {"model_id", n.model_id},
          {"model_version", n.model_version},
          {"model_name", n.model_name},
          {"boot_id", n.boot_id},
          {"bearer", n.bearer},
          {"first_seen_ms", n.first_seen_ms},
          {"last_seen_ms", n.last_seen_ms},
          {"last_seen", iso8601(n.last_seen_ms)},
          {"last_seen_age_ms", now_ms - n.last_seen_ms},
          {"state_changed_ms", n.state_changed_ms},
          {"groups", n.groups}};
}

nlohmann::json to_json(const gateway::LabelBucket& b) {
  return {{"bucket_start_ms", b.bucket_start_ms},
          {"label", b.label},
          {"count", b.count},
          {"score_histogram", b.score_histogram}};
}

nlohmann::json to_json(const gateway::TelemetryRow& t) {
  return {{"received_ms", t.received_ms},
          {"boot_id", t.boot_id},
          {"uptime_s", t.uptime_s},
          {"inferences", t.inferences},
          {"failed_inferences", t.failed_inferences},
          {"free_ram_bytes", t.free_ram_bytes},
          {"last_latency_us", t.last_latency_us},
          {"dropped_results", t.dropped_results},
          {"pending_results", t.pending_results},
          {"reconnects", t.reconnects}};
}

nlohmann::json to_json(const gateway::OtaStatusRow& o) {
  return {{"received_ms", o.received_ms},
          {"boot_id", o.boot_id},
          {"model_id", o.model_id},
          {"version", o.version},
          {"state", std::string(rollout::ota_state_name(static_cast<tinyedge_v1_OtaState>(o.state)))},
          {"reason", std::string(rollout::ota_reason_name(static_cast<tinyedge_v1_OtaReason>(o.reason)))},
          {"bytes_written", o.bytes_written},
          {"total_bytes", o.total_bytes},
          {"active_version", o.active_version}};
}

nlohmann::json to_json(const gateway::LatencyStats& s) {
  return {{"model_id", s.model_id}, {"model_version", s.model_version},
          {"count", s.count},       {"p50_us", s.p50_us},
          {"p90_us", s.p90_us},     {"p99_us", s.p99_us},
          {"max_us", s.max_us}};
}

std::string csv_header() {
  return "id,node,boot_id,seq,at_ms,at,received_ms,model_id,model_version,label,label_name,score,probability,latency_us,"
         "sample_id\r\n";
}

std::string to_csv(const gateway::EventRow& e, const LabelList& labels) {
  const nlohmann::json name = label_name(labels, e.label);
  char p[16];
  std::snprintf(p, sizeof p, "%.4f", probability(e.score));
  std::string s;
  s.reserve(128);
  s += std::to_string(e.id) + ',' + csv_field(e.node_id) + ',' + std::to_string(e.boot_id) + ',' +
       std::to_string(e.seq) + ',' + std::to_string(e.at_ms) + ',' + iso8601(e.at_ms) + ',' +
       std::to_string(e.received_ms) + ',' + std::to_string(e.model_id) + ',' + std::to_string(e.model_version) + ',' +
       std::to_string(e.label) + ',' + (name.is_null() ? std::string() : csv_field(name.get<std::string>())) + ',' +
       std::to_string(e.score) + ',' + p + ',' + std::to_string(e.latency_us) + ',' +
       std::to_string(e.sample_id) + "\r\n";
  return s;
}

}  // namespace tinyedge::dashboard
