// Hand-built protobuf wire bytes for bad-input tests: nanopb encodes strings with strlen, so a
// node id with an embedded NUL, or a field value the validator must refuse, is written here
// field by field exactly as a hostile or buggy node would put it on the wire.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace tinyedge::test {

class Wire {
 public:
  Wire& varint(uint32_t field, uint64_t value) {
    put_varint(uint64_t{field} << 3);
    put_varint(value);
    return *this;
  }
  Wire& bytes(uint32_t field, std::string_view value) {
    put_varint((uint64_t{field} << 3) | 2);
    put_varint(value.size());
    out_.insert(out_.end(), value.begin(), value.end());
    return *this;
  }
  Wire& message(uint32_t field, const Wire& inner) {
    return bytes(field, std::string_view(reinterpret_cast<const char*>(inner.out_.data()), inner.out_.size()));
  }
  const std::vector<uint8_t>& data() const { return out_; }

 private:
  void put_varint(uint64_t value) {
    while (value >= 0x80) {
      out_.push_back(static_cast<uint8_t>(value | 0x80));
      value >>= 7;
    }
    out_.push_back(static_cast<uint8_t>(value));
  }
  std::vector<uint8_t> out_;
};

// Uplink field numbers (protocol/tinyedge.proto).
namespace uplink_field {
inline constexpr uint32_t kSeq = 1, kBootId = 2, kNodeId = 3, kHello = 10, kResults = 11, kTelemetry = 12,
                          kOtaStatus = 13;
}

// Hello with the given strings (bytes as they are), model 7 v`model_version`.
inline std::vector<uint8_t> hello_uplink(std::string_view node_id, std::string_view hardware,
                                         std::string_view model_name, uint32_t model_version = 3,
                                         uint32_t boot_id = 1) {
  Wire hello;
  hello.bytes(1, hardware).varint(2, 1).varint(3, 7).varint(4, model_version).bytes(8, model_name);
  Wire up;
  up.varint(uplink_field::kBootId, boot_id).bytes(uplink_field::kNodeId, node_id).message(uplink_field::kHello, hello);
  return up.data();
}

// One InferenceResults uplink with a single result (and optionally one runner-up).
inline std::vector<uint8_t> one_result_uplink(std::string_view node_id, uint32_t boot_id, uint32_t seq, uint64_t label,
                                              uint64_t score, uint64_t runner_label = 0, uint64_t runner_score = 0,
                                              bool with_runner = false) {
  Wire result;
  result.varint(1, label).varint(2, score).varint(3, 1000);
  if (with_runner) result.message(5, Wire().varint(1, runner_label).varint(2, runner_score));
  Wire results;
  results.varint(1, 3).varint(2, 7).message(3, result);
  Wire up;
  up.varint(uplink_field::kSeq, seq).varint(uplink_field::kBootId, boot_id).bytes(uplink_field::kNodeId, node_id);
  up.message(uplink_field::kResults, results);
  return up.data();
}

// OtaStatus for model 7 with raw (possibly unknown) state and reason numbers.
inline std::vector<uint8_t> ota_status_uplink(std::string_view node_id, uint64_t state, uint64_t reason,
                                              uint32_t version, uint32_t active_version) {
  Wire status;
  status.varint(1, 7).varint(2, version).varint(3, state).varint(4, reason).varint(7, active_version);
  Wire up;
  up.varint(uplink_field::kBootId, 1).bytes(uplink_field::kNodeId, node_id).message(uplink_field::kOtaStatus, status);
  return up.data();
}

// Telemetry with `inferences` since boot and the period's input sums as given (sint64 zigzag).
inline std::vector<uint8_t> telemetry_uplink(std::string_view node_id, uint32_t inferences, uint32_t input_inferences,
                                             uint32_t input_values, int64_t input_sum, uint64_t input_sum_squares) {
  Wire t;
  t.varint(2, inferences).varint(9, input_inferences).varint(10, input_values);
  t.varint(11, (static_cast<uint64_t>(input_sum) << 1) ^ static_cast<uint64_t>(input_sum >> 63));
  t.varint(12, input_sum_squares);
  Wire up;
  up.varint(uplink_field::kBootId, 1).bytes(uplink_field::kNodeId, node_id).message(uplink_field::kTelemetry, t);
  return up.data();
}

}  // namespace tinyedge::test
