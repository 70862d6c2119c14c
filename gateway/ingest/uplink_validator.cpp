#include "gateway/ingest/uplink_validator.h"

#include <pb_decode.h>

#include <cstring>

#include "gateway/ingest/node_text.h"
#include "protocol/topics.h"

namespace tinyedge::gateway {
namespace {

// Calls visit(field number, bytes) for every length-delimited field of one message level, in
// wire order, until visit returns false. The decoded struct cannot answer two questions that the
// wire can: whether a string held a NUL byte (nanopb copies it; strnlen then cuts the text
// short) and what every occurrence of a repeated field said (the last one wins, but a sub-message
// that appears twice is merged). The bytes already decoded, so a scan failure cannot happen for
// input that reaches it; it is treated as bad input all the same.
template <typename Visit>
bool for_each_length_delimited(std::span<const uint8_t> bytes, Visit&& visit) {
  pb_istream_t stream = pb_istream_from_buffer(bytes.data(), bytes.size());
  for (;;) {
    pb_wire_type_t type;
    uint32_t field;
    bool eof = false;
    if (!pb_decode_tag(&stream, &type, &field, &eof)) return eof;
    if (type != PB_WT_STRING) {
      if (!pb_skip_field(&stream, type)) return false;
      continue;
    }
    uint32_t length;
    if (!pb_decode_varint32(&stream, &length) || length > stream.bytes_left) return false;
    const size_t at = bytes.size() - stream.bytes_left;
    if (!visit(field, bytes.subspan(at, length))) return true;
    if (!pb_read(&stream, nullptr, length)) return false;
  }
}

const char* hello_text_detail(uint32_t field, TextProblem problem) {
  const bool utf8 = problem == TextProblem::kInvalidUtf8;
  if (field == tinyedge_v1_Hello_hardware_tag) {
    return utf8 ? "hello.hardware is not valid UTF-8" : "hello.hardware holds a control character";
  }
  return utf8 ? "hello.model_name is not valid UTF-8" : "hello.model_name holds a control character";
}

// Node ids arrive as the topic level (checked by parse_topic) and inside every Uplink. The
// struct's copy ends at the first NUL, so "n1\0anything" would read as "n1": refuse any NUL.
UplinkCheck check_node_id_bytes(std::span<const uint8_t> bytes, UplinkCheck check) {
  const bool scanned = for_each_length_delimited(bytes, [&](uint32_t field, std::span<const uint8_t> value) {
    if (field == tinyedge_v1_Uplink_node_id_tag && std::memchr(value.data(), 0, value.size()) != nullptr) {
      check.error = UplinkError::kBadNodeId;
      check.detail = "node_id holds a NUL byte";
      return false;
    }
    return true;
  });
  if (!scanned && check.error == UplinkError::kOk) check.error = UplinkError::kDecode, check.detail = "bad wire format";
  return check;
}

// Every occurrence of Hello's strings on the wire must be text a view can show as it is.
UplinkCheck check_hello_text(std::span<const uint8_t> bytes, UplinkCheck check) {
  const auto in_hello = [&](uint32_t field, std::span<const uint8_t> value) {
    if (field != tinyedge_v1_Hello_hardware_tag && field != tinyedge_v1_Hello_model_name_tag) return true;
    const TextProblem problem = check_node_text(value);
    if (problem == TextProblem::kOk) return true;
    check.error = UplinkError::kBadText;
    check.detail = hello_text_detail(field, problem);
    return false;
  };
  bool scanned = true;
  const bool outer = for_each_length_delimited(bytes, [&](uint32_t field, std::span<const uint8_t> value) {
    if (field != tinyedge_v1_Uplink_hello_tag) return true;
    scanned = for_each_length_delimited(value, in_hello);
    return scanned && check.error == UplinkError::kOk;
  });
  if ((!outer || !scanned) && check.error == UplinkError::kOk) {
    check.error = UplinkError::kDecode;
    check.detail = "bad wire format";
  }
  return check;
}

UplinkCheck check_results_values(const tinyedge_v1_InferenceResults& results, UplinkCheck check) {
  for (pb_size_t i = 0; i < results.results_count; ++i) {
    const auto& r = results.results[i];
    if (r.score > kMaxScore) {
      return check.error = UplinkError::kBadScore, check.detail = "result score above 255", check;
    }
    if (r.label >= kLabelLimit) {
      return check.error = UplinkError::kBadLabel, check.detail = "result label at or above 65535", check;
    }
    for (pb_size_t k = 0; k < r.runners_up_count; ++k) {
      if (r.runners_up[k].score > kMaxScore) {
        return check.error = UplinkError::kBadScore, check.detail = "runner-up score above 255", check;
      }
      if (r.runners_up[k].label >= kLabelLimit) {
        return check.error = UplinkError::kBadLabel, check.detail = "runner-up label at or above 65535", check;
      }
    }
  }
  return check;
}

// The number nanopb stored in an enum field, read as an int: a C++ enum object holding a value
// outside its enumerators' range is not something to compare directly.
template <typename Enum>
int32_t raw_enum(const Enum& value) {
  static_assert(sizeof(Enum) == sizeof(int32_t));
  int32_t raw;
  std::memcpy(&raw, &value, sizeof raw);
  return raw;
}

// proto3 enums are open: nanopb hands over any number. An unknown state would be stored and
// could move the node's recorded model version (only ACTIVATED may), so it is refused.
UplinkCheck check_ota_status_values(const tinyedge_v1_OtaStatus& status, UplinkCheck check) {
  const int32_t state = raw_enum(status.state), reason = raw_enum(status.reason);
  if (state < _tinyedge_v1_OtaState_MIN || state > _tinyedge_v1_OtaState_MAX) {
    return check.error = UplinkError::kBadOtaStatus, check.detail = "state is not an OtaState", check;
  }
  if (reason < _tinyedge_v1_OtaReason_MIN || reason > _tinyedge_v1_OtaReason_MAX) {
    return check.error = UplinkError::kBadOtaStatus, check.detail = "reason is not an OtaReason", check;
  }
  return check;
}

// Telemetry's input sums are over int8 values (-128..127): their count, sum and sum of squares
// bound one another, and every inference summed adds a whole tensor. Sums no real input can give
// are a node bug or a lie aimed at the drift watch: refused, so they never reach a baseline.
UplinkCheck check_input_stats(const tinyedge_v1_Telemetry& t, UplinkCheck check) {
  auto refuse = [&check](const char* detail) {
    check.error = UplinkError::kBadInputStats;
    check.detail = detail;
    return check;
  };
  if (t.input_inferences == 0) {
    if (t.input_values != 0 || t.input_sum != 0 || t.input_sum_squares != 0)
      return refuse("telemetry.input_inferences is 0 but input sums are given");
    return check;  // not reported: an older node, or no inference in the period
  }
  if (t.input_inferences > t.inferences) return refuse("telemetry.input_inferences exceeds the inferences since boot");
  if (t.input_values == 0 || t.input_values % t.input_inferences != 0)
    return refuse("telemetry.input_values is not a whole number of input tensors of input_inferences");
  const uint64_t values = t.input_values;
  const uint64_t magnitude =
      t.input_sum < 0 ? 0 - static_cast<uint64_t>(t.input_sum) : static_cast<uint64_t>(t.input_sum);
  if (magnitude > 128 * values) return refuse("telemetry.input_sum is beyond 128 x input_values");
  if (t.input_sum_squares > 128 * 128 * values)
    return refuse("telemetry.input_sum_squares is beyond 128^2 x input_values");
  // A variance is never negative: sum^2 <= values x sum of squares (Cauchy-Schwarz), in 128-bit
  // integers (sum^2 reaches 2^78).
  const unsigned __int128 sum_squared = static_cast<unsigned __int128>(magnitude) * magnitude;
  if (sum_squared > static_cast<unsigned __int128>(values) * t.input_sum_squares)
    return refuse("telemetry.input_sum_squares is below input_sum^2 / input_values (a negative variance)");
  return check;
}

// Labels a node enrolls are 1..16 printable ASCII characters without spaces (node_firmware/enroll);
// a trained class's label (nearest_label) may hold spaces ("Ankle boot"). Anything else in a label
// field is a node bug or an attack on the views that show it.
bool is_node_label(const char* label, size_t capacity, bool may_be_empty, bool spaces = false) {
  size_t n = 0;
  while (n < capacity && label[n] != 0) {
    if (label[n] < ' ' || (label[n] == ' ' && !spaces) || label[n] > '~') return false;
    ++n;
  }
  return n > 0 || may_be_empty;
}

UplinkCheck check_enrollment_values(const tinyedge_v1_EnrollmentStatus& status, UplinkCheck check) {
  const int32_t action = raw_enum(status.action), refusal = raw_enum(status.refusal);
  if (action < _tinyedge_v1_EnrollCommand_Action_MIN || action > _tinyedge_v1_EnrollCommand_Action_MAX) {
    return check.error = UplinkError::kBadEnrollment, check.detail = "action is not an EnrollCommand.Action", check;
  }
  if (refusal < _tinyedge_v1_EnrollRefusal_MIN || refusal > _tinyedge_v1_EnrollRefusal_MAX) {
    return check.error = UplinkError::kBadEnrollment, check.detail = "refusal is not an EnrollRefusal", check;
  }
  if (!is_node_label(status.label, sizeof status.label, true) ||
      !is_node_label(status.nearest_label, sizeof status.nearest_label, true, true)) {
    return check.error = UplinkError::kBadEnrollment, check.detail = "label is not printable ASCII", check;
  }
  for (pb_size_t i = 0; i < status.enrolled_count; ++i) {
    if (!is_node_label(status.enrolled[i], sizeof status.enrolled[i], false)) {
      return check.error = UplinkError::kBadEnrollment, check.detail = "enrolled label is not printable ASCII", check;
    }
    // A class table holds each label once; the store keys a node's classes by label.
    for (pb_size_t j = 0; j < i; ++j) {
      if (std::strncmp(status.enrolled[i], status.enrolled[j], sizeof status.enrolled[i]) == 0) {
        return check.error = UplinkError::kBadEnrollment, check.detail = "an enrolled label is listed twice", check;
      }
    }
  }
  if (status.has_shared && (!is_node_label(status.shared.label, sizeof status.shared.label, false) ||
                            status.shared.threshold_q14 < -16384 || status.shared.threshold_q14 > 16384)) {
    return check.error = UplinkError::kBadEnrollment, check.detail = "shared class label or threshold out of range",
           check;
  }
  if (status.distance_q14 > 32768) {
    return check.error = UplinkError::kBadEnrollment, check.detail = "distance above 2.0", check;
  }
  return check;
}

}  // namespace

const char* enroll_refusal_text(int32_t refusal) {
  switch (refusal) {
    case tinyedge_v1_EnrollRefusal_ENROLL_OK:
      return "ok";
    case tinyedge_v1_EnrollRefusal_ENROLL_TOO_FEW_EXAMPLES:
      return "too few examples";
    case tinyedge_v1_EnrollRefusal_ENROLL_TOO_MANY_EXAMPLES:
      return "too many examples";
    case tinyedge_v1_EnrollRefusal_ENROLL_SILENT_EXAMPLE:
      return "an example is silent (no signal)";
    case tinyedge_v1_EnrollRefusal_ENROLL_DUPLICATE_LABEL:
      return "label already exists";
    case tinyedge_v1_EnrollRefusal_ENROLL_BAD_LABEL:
      return "label empty, too long or not printable";
    case tinyedge_v1_EnrollRefusal_ENROLL_COLLIDES:
      return "prototype collides with an existing class";
    case tinyedge_v1_EnrollRefusal_ENROLL_TABLE_FULL:
      return "enrolled-class table full";
    case tinyedge_v1_EnrollRefusal_ENROLL_NO_SPACE:
      return "no flash space for the class table";
    case tinyedge_v1_EnrollRefusal_ENROLL_UNKNOWN_LABEL:
      return "no enrolled class has that label";
    case tinyedge_v1_EnrollRefusal_ENROLL_NO_EMBEDDING_MODEL:
      return "the running model has no embedding head";
    case tinyedge_v1_EnrollRefusal_ENROLL_BAD_EXAMPLES:
      return "examples missing or not model inputs";
    case tinyedge_v1_EnrollRefusal_ENROLL_MODEL_FAILED:
      return "embedding model failed";
    case tinyedge_v1_EnrollRefusal_ENROLL_FLASH_ERROR:
      return "flash error";
    case tinyedge_v1_EnrollRefusal_ENROLL_BUSY:
      return "an enrollment is already capturing";
    case tinyedge_v1_EnrollRefusal_ENROLL_BAD_SIGNATURE:
      return "shared class unsigned or its signature does not verify with the node's package key";
    case tinyedge_v1_EnrollRefusal_ENROLL_OTHER_EMBEDDING:
      return "shared class was learned with another embedding model";
    case tinyedge_v1_EnrollRefusal_ENROLL_REPLAYED:
      return "shared class replayed (sequence not above the last share accepted)";
    case tinyedge_v1_EnrollRefusal_ENROLL_NOT_RECOMPUTABLE:
      return "shared class has no examples to recompute under the new model (share it again from a node that "
             "enrolled it under this model)";
  }
  return "unknown refusal";
}

const char* to_string(UplinkError error) {
  switch (error) {
    case UplinkError::kOk:
      return "ok";
    case UplinkError::kEmpty:
      return "empty payload";
    case UplinkError::kOversized:
      return "oversized payload";
    case UplinkError::kDecode:
      return "undecodable uplink";
    case UplinkError::kBadNodeId:
      return "bad node id";
    case UplinkError::kIdentityMismatch:
      return "identity mismatch";
    case UplinkError::kNoPayload:
      return "uplink without payload";
    case UplinkError::kBadSeq:
      return "bad sequence number";
    case UplinkError::kEmptyResults:
      return "results without any result";
    case UplinkError::kBadText:
      return "bad text";
    case UplinkError::kBadScore:
      return "score out of range";
    case UplinkError::kBadLabel:
      return "label out of range";
    case UplinkError::kBadOtaStatus:
      return "unknown ota status";
    case UplinkError::kBadEnrollment:
      return "bad enrollment status";
    case UplinkError::kBadInputStats:
      return "bad input statistics";
  }
  return "unknown";
}

bool is_invalid_field(UplinkError error) {
  switch (error) {
    case UplinkError::kBadNodeId:
    case UplinkError::kBadText:
    case UplinkError::kBadScore:
    case UplinkError::kBadLabel:
    case UplinkError::kBadOtaStatus:
    case UplinkError::kBadEnrollment:
    case UplinkError::kBadInputStats:
      return true;
    default:
      return false;
  }
}

const char* to_string(UplinkKind kind) {
  switch (kind) {
    case UplinkKind::kHello:
      return "hello";
    case UplinkKind::kResults:
      return "results";
    case UplinkKind::kTelemetry:
      return "telemetry";
    case UplinkKind::kOtaStatus:
      return "ota_status";
    case UplinkKind::kChunkRequest:
      return "chunk_request";
    case UplinkKind::kLinkProof:
      return "link_proof";
    case UplinkKind::kEnrollmentStatus:
      return "enrollment_status";
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
  if (check = check_node_id_bytes(bytes, check); check.error != UplinkError::kOk) return check;
  if (!expected_node.empty() && node != expected_node) return check.error = UplinkError::kIdentityMismatch, check;
  switch (out.which_payload) {
    case tinyedge_v1_Uplink_hello_tag:
      check.kind = UplinkKind::kHello;
      if (check = check_hello_text(bytes, check); check.error != UplinkError::kOk) return check;
      break;
    case tinyedge_v1_Uplink_results_tag: {
      check.kind = UplinkKind::kResults;
      const uint32_t count = out.payload.results.results_count;
      if (count == 0) return check.error = UplinkError::kEmptyResults, check;
      // Seqs start at 1 per boot; the last result's seq must still fit in 32 bits.
      if (out.seq == 0 || out.seq > UINT32_MAX - (count - 1)) return check.error = UplinkError::kBadSeq, check;
      if (check = check_results_values(out.payload.results, check); check.error != UplinkError::kOk) return check;
      break;
    }
    case tinyedge_v1_Uplink_telemetry_tag:
      check.kind = UplinkKind::kTelemetry;
      if (check = check_input_stats(out.payload.telemetry, check); check.error != UplinkError::kOk) return check;
      break;
    case tinyedge_v1_Uplink_ota_status_tag:
      check.kind = UplinkKind::kOtaStatus;
      if (check = check_ota_status_values(out.payload.ota_status, check); check.error != UplinkError::kOk) return check;
      break;
    case tinyedge_v1_Uplink_chunk_request_tag:
      check.kind = UplinkKind::kChunkRequest;
      break;
    case tinyedge_v1_Uplink_link_proof_tag:
      check.kind = UplinkKind::kLinkProof;
      break;
    case tinyedge_v1_Uplink_enrollment_status_tag:
      check.kind = UplinkKind::kEnrollmentStatus;
      if (check = check_enrollment_values(out.payload.enrollment_status, check); check.error != UplinkError::kOk) {
        return check;
      }
      break;
    default:
      return check.error = UplinkError::kNoPayload, check;
  }
  return check;
}

}  // namespace tinyedge::gateway
