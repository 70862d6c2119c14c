// The gateway's uplink check on arbitrary bytes: never reads out of bounds, and whatever it
// accepts is a well-formed uplink (valid node id, matching the expected node, sane seqs, scores
// and labels in range, known OTA states, Hello text that is printable UTF-8).
//
// Bit 1 of the first byte switches to node strings: the rest of the input is cut into a node id,
// a hardware and a model name that go into a Hello as they are, so the text checks see every
// byte sequence (random bytes rarely decode as a Hello with strings in it). Then acceptance must
// be exact: accepted if and only if the id is valid with no NUL and both strings are clean.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "gateway/ingest/node_text.h"
#include "gateway/ingest/uplink_validator.h"
#include "protocol/topics.h"

using namespace tinyedge;

namespace {

void put_varint(std::vector<uint8_t>& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<uint8_t>(value));
}

void put_bytes(std::vector<uint8_t>& out, uint32_t field, std::string_view value) {
  put_varint(out, (uint64_t{field} << 3) | 2);
  put_varint(out, value.size());
  out.insert(out.end(), value.begin(), value.end());
}

bool text_ok(std::string_view text) {
  return gateway::check_node_text({reinterpret_cast<const uint8_t*>(text.data()), text.size()}) ==
         gateway::TextProblem::kOk;
}

std::string_view c_string(const char* field, size_t capacity) { return {field, ::strnlen(field, capacity)}; }

// What every accepted uplink must satisfy, however it was built.
void check_accepted(const gateway::UplinkCheck& check, const tinyedge_v1_Uplink& uplink, std::string_view expected,
                    size_t size) {
  const std::string_view node = gateway::node_id_of(uplink);
  if (!protocol::is_valid_node_id(node)) std::abort();
  if (!expected.empty() && node != expected) std::abort();
  if (size > protocol::kMaxUplinkBytes) std::abort();
  switch (check.kind) {
    case gateway::UplinkKind::kResults: {
      const auto& r = uplink.payload.results;
      const uint32_t count = r.results_count;
      if (count == 0 || count > 16 || uplink.seq == 0 || uplink.seq > UINT32_MAX - (count - 1)) std::abort();
      for (pb_size_t i = 0; i < count; ++i) {
        if (r.results[i].score > gateway::kMaxScore || r.results[i].label >= gateway::kLabelLimit) std::abort();
        for (pb_size_t k = 0; k < r.results[i].runners_up_count; ++k) {
          const auto& c = r.results[i].runners_up[k];
          if (c.score > gateway::kMaxScore || c.label >= gateway::kLabelLimit) std::abort();
        }
      }
      break;
    }
    case gateway::UplinkKind::kHello: {
      const auto& h = uplink.payload.hello;
      if (!text_ok(c_string(h.hardware, sizeof h.hardware))) std::abort();
      if (!text_ok(c_string(h.model_name, sizeof h.model_name))) std::abort();
      break;
    }
    case gateway::UplinkKind::kOtaStatus: {
      int32_t state, reason;
      std::memcpy(&state, &uplink.payload.ota_status.state, sizeof state);
      std::memcpy(&reason, &uplink.payload.ota_status.reason, sizeof reason);
      if (state < _tinyedge_v1_OtaState_MIN || state > _tinyedge_v1_OtaState_MAX) std::abort();
      if (reason < _tinyedge_v1_OtaReason_MIN || reason > _tinyedge_v1_OtaReason_MAX) std::abort();
      break;
    }
    case gateway::UplinkKind::kTelemetry: {
      // Accepted input sums are ones int8 tensors can add up to (checked here in long double,
      // apart from the validator's integers): whole tensors, each value in -128..127, variance >= 0.
      const auto& t = uplink.payload.telemetry;
      if (t.input_inferences == 0) {
        if (t.input_values != 0 || t.input_sum != 0 || t.input_sum_squares != 0) std::abort();
        break;
      }
      const long double n = t.input_values, sum = t.input_sum, squares = t.input_sum_squares;
      if (t.input_inferences > t.inferences || t.input_values % t.input_inferences != 0) std::abort();
      if (sum > 128 * n || sum < -128 * n || squares > 16384 * n || sum * sum > n * squares) std::abort();
      break;
    }
    default:
      break;
  }
}

void fuzz_node_strings(const uint8_t* data, size_t size, std::string_view expected, tinyedge_v1_Uplink& uplink) {
  if (size < 4) return;
  const size_t node_len = data[1] % 40, hardware_len = data[2] % 30, name_len = data[3] % 40;
  data += 4;
  size -= 4;
  if (node_len + hardware_len + name_len > size) return;
  const std::string_view node(reinterpret_cast<const char*>(data), node_len);
  const std::string_view hardware(reinterpret_cast<const char*>(data + node_len), hardware_len);
  const std::string_view name(reinterpret_cast<const char*>(data + node_len + hardware_len), name_len);
  std::vector<uint8_t> hello, wire;
  put_bytes(hello, tinyedge_v1_Hello_hardware_tag, hardware);
  put_bytes(hello, tinyedge_v1_Hello_model_name_tag, name);
  put_bytes(wire, tinyedge_v1_Uplink_node_id_tag, node);
  put_bytes(wire, tinyedge_v1_Uplink_hello_tag, {reinterpret_cast<const char*>(hello.data()), hello.size()});
  const auto check = gateway::check_uplink(wire, expected, uplink);
  const bool fits =
      hardware_len < sizeof uplink.payload.hello.hardware && name_len < sizeof uplink.payload.hello.model_name;
  const bool should_accept = fits && protocol::is_valid_node_id(node) && (expected.empty() || node == expected) &&
                             text_ok(hardware) && text_ok(name);
  if ((check.error == gateway::UplinkError::kOk) != should_accept) std::abort();
  if (check.error != gateway::UplinkError::kOk) return;
  check_accepted(check, uplink, expected, wire.size());
  // Accepted strings arrive whole: nothing cut at a NUL.
  const auto& h = uplink.payload.hello;
  if (gateway::node_id_of(uplink) != node || c_string(h.hardware, sizeof h.hardware) != hardware ||
      c_string(h.model_name, sizeof h.model_name) != name) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tinyedge_v1_Uplink uplink;
  // The first byte picks the bearer's expectation: unbound link, or a topic naming some node.
  const std::string_view expected = size > 0 && (data[0] & 1) ? "node-1" : "";
  if (size > 0 && (data[0] & 2)) {
    fuzz_node_strings(data, size, expected, uplink);
    return 0;
  }
  const auto check = gateway::check_uplink({data, size}, expected, uplink);
  if (check.error != gateway::UplinkError::kOk) return 0;
  check_accepted(check, uplink, expected, size);
  return 0;
}
