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
  kBadNodeId,         // node_id missing, not [A-Za-z0-9_-]{1,32}, or cut short by a NUL byte
  kIdentityMismatch,  // node_id differs from the topic's / link's node
  kNoPayload,         // none of the oneof kinds set
  kBadSeq,            // results with seq 0, or seq + count overflows
  kEmptyResults,      // an InferenceResults with no results
  kBadText,           // a Hello string that is not UTF-8 or holds a control character
  kBadScore,          // a score above 255 (scores are probabilities quantised to a byte)
  kBadLabel,          // a label no model can have (label tables hold at most 65535 entries)
  kBadOtaStatus,      // an OtaStatus whose state or reason is not a value of its enum
  kBadEnrollment,     // an EnrollmentStatus with an unknown action/refusal or a label that is not a node label
  kBadInputStats,     // Telemetry input sums no int8 inputs can add up to (telemetry.input_* named)
};

// Scores are probabilities quantised to 0..255 (tinyedge.proto, ClassScore.score).
inline constexpr uint32_t kMaxScore = 255;
// Labels index the model's label table, whose count is 16 bits in the .tem header (and a class
// index is a uint16_t on the node): no model has a label at or above 65535.
inline constexpr uint32_t kLabelLimit = 65535;

// True for the errors that mean "a field holds a value the protocol does not allow" (as opposed
// to bytes that do not decode at all): counted apart so an operator can tell a buggy or hostile
// node from line noise.
bool is_invalid_field(UplinkError error);

const char* to_string(UplinkError error);

// kLinkProof: a serial/BLE-bridge node answering its link's challenge (gateway/bearer/link_auth.h).
enum class UplinkKind : uint8_t {
  kHello,
  kResults,
  kTelemetry,
  kOtaStatus,
  kChunkRequest,
  kLinkProof,
  kEnrollmentStatus
};
const char* to_string(UplinkKind kind);

// What an EnrollmentStatus refusal means, for the log and the CLI ("unknown refusal" if no value).
const char* enroll_refusal_text(int32_t refusal);

struct UplinkCheck {
  UplinkError error;
  UplinkKind kind;     // valid when error == kOk
  const char* detail;  // nanopb's message for kDecode, the field and its problem for a bad
                       // field (e.g. "hello.hardware is not valid UTF-8"), else nullptr
};

// Decodes `bytes` into `out` and validates it. `expected_node` is the node the bearer says the
// bytes came from (the topic level, or the id a serial link is bound to); empty means the link
// is not bound yet and any valid id is accepted.
UplinkCheck check_uplink(std::span<const uint8_t> bytes, std::string_view expected_node, tinyedge_v1_Uplink& out);

inline std::string_view node_id_of(const tinyedge_v1_Uplink& uplink) {
  return {uplink.node_id, ::strnlen(uplink.node_id, sizeof uplink.node_id)};
}

}  // namespace tinyedge::gateway
