// Decode and check one Uplink as it arrives from a bearer, before anything is stored or routed.
// Pure and allocation-free (no Boost, Paho or SQLite) so that the libFuzzer target can drive the
// exact code the daemon runs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "protocol/codec.h"

namespace tinyedge::gateway {

enum class UplinkError : uint8_t {
  kOk,
  kEmpty,             // zero-length payload
  kOversized,         // longer than the largest Uplink the protocol allows
  kDecode,            // not a valid protobuf Uplink (random bytes, truncated, bounds exceeded)
  kBadNodeId,         // node_id missing or not [A-Za-z0-9_-]{1,32}
  kIdentityMismatch,  // node_id differs from the topic's / link's node
  kNoPayload,         // none of the oneof kinds set
  kBadSeq,            // results with seq 0, or seq + count overflows
  kEmptyResults,      // an InferenceResults with no results
};

const char* to_string(UplinkError error);

enum class UplinkKind : uint8_t { kHello, kResults, kTelemetry, kOtaStatus, kChunkRequest };
const char* to_string(UplinkKind kind);

struct UplinkCheck {
  UplinkError error;
  UplinkKind kind;           // valid when error == kOk
  const char* detail;        // nanopb's message for kDecode, else nullptr
};

// Decodes `bytes` into `out` and validates it. `expected_node` is the node the bearer says the
// bytes came from (the topic level, or the id a serial link is bound to); empty means the link
// is not bound yet and any valid id is accepted.
UplinkCheck check_uplink(std::span<const uint8_t> bytes, std::string_view expected_node, tinyedge_v1_Uplink& out);

inline std::string_view node_id_of(const tinyedge_v1_Uplink& uplink) {
  return {uplink.node_id, ::strnlen(uplink.node_id, sizeof uplink.node_id)};
}

}  // namespace tinyedge::gateway
