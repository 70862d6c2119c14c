#include "gateway/ingest/uplink_validator.h"

#include <cstring>

#include "protocol/topics.h"

namespace tinyedge::gateway {

const char* to_string(UplinkError error) {
  switch (error) {
    case UplinkError::kOk: return "ok";
    case UplinkError::kEmpty: return "empty payload";
    case UplinkError::kOversized: return "oversized payload";
    case UplinkError::kDecode: return "undecodable uplink";
    case UplinkError::kBadNodeId: return "bad node id";
    case UplinkError::kIdentityMismatch: return "identity mismatch";
    case UplinkError::kNoPayload: return "uplink without payload";
    case UplinkError::kBadSeq: return "bad sequence number";
    case UplinkError::kEmptyResults: return "results without any result";
  }
  return "unknown";
}

const char* to_string(UplinkKind kind) {
  switch (kind) {
    case UplinkKind::kHello: return "hello";
    case UplinkKind::kResults: return "results";
    case UplinkKind::kTelemetry: return "telemetry";
    case UplinkKind::kOtaStatus: return "ota_status";
    case UplinkKind::kChunkRequest: return "chunk_request";
  }
  return "unknown";
}

UplinkCheck check_uplink(std::span<const uint8_t> bytes, std::string_view expected_node, tinyedge_v1_Uplink& out) {
  UplinkCheck check{UplinkError::kOk, UplinkKind::kHello, nullptr};
  if (bytes.empty()) return check.error = UplinkError::kEmpty, check;
  if (bytes.size() > protocol::kMaxUplinkBytes) return check.error = UplinkError::kOversized, check;
  const auto decoded = protocol::decode_uplink(bytes, out);
  if (!decoded.ok) {
    check.error = UplinkError::kDecode;
    check.detail = decoded.error;
    return check;
  }
  const std::string_view node = node_id_of(out);
  if (!protocol::is_valid_node_id(node)) return check.error = UplinkError::kBadNodeId, check;
  if (!expected_node.empty() && node != expected_node) return check.error = UplinkError::kIdentityMismatch, check;
  switch (out.which_payload) {
    case tinyedge_v1_Uplink_hello_tag: check.kind = UplinkKind::kHello; break;
    case tinyedge_v1_Uplink_results_tag: {
      check.kind = UplinkKind::kResults;
      const uint32_t count = out.payload.results.results_count;
      if (count == 0) return check.error = UplinkError::kEmptyResults, check;
      // Seqs start at 1 per boot; the last result's seq must still fit in 32 bits.
      if (out.seq == 0 || out.seq > UINT32_MAX - (count - 1)) return check.error = UplinkError::kBadSeq, check;
      break;
    }
    case tinyedge_v1_Uplink_telemetry_tag: check.kind = UplinkKind::kTelemetry; break;
    case tinyedge_v1_Uplink_ota_status_tag: check.kind = UplinkKind::kOtaStatus; break;
    case tinyedge_v1_Uplink_chunk_request_tag: check.kind = UplinkKind::kChunkRequest; break;
    default: return check.error = UplinkError::kNoPayload, check;
  }
  return check;
}

}  // namespace tinyedge::gateway
