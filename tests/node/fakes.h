// Test doubles for the node's ports: a settable clock, a recording bearer, a scripted engine.
#pragma once
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "node_firmware/app/bearer.h"
#include "node_firmware/app/inference_engine.h"
#include "node_firmware/app/platform.h"
#include "node_firmware/app/sensor.h"
#include "protocol/codec.h"

namespace tinyedge::app::testing {

class FakePlatform final : public Platform {
 public:
  uint32_t now_ms() override { return ms; }
  uint32_t now_us() override { return ms * 1000 + us_extra; }
  uint32_t free_ram_bytes() override { return 1234; }
  void request_reboot() override { ++reboots; }
  uint32_t entropy() override { return entropy_bits++; }
  uint32_t ms = 0;
  uint32_t entropy_bits = 0x5EED;
  uint32_t us_extra = 0;
  int reboots = 0;
};

class CountingSensor final : public Sensor {
 public:
  bool read(std::span<int8_t> input, uint32_t& sample_id) override {
    for (auto& v : input) v = static_cast<int8_t>(n);
    sample_id = ++n;
    return true;
  }
  uint32_t n = 0;
};

// Output: class (input[0] mod size) gets the highest value, so each sample's top-1 is predictable.
class FakeEngine final : public InferenceEngine {
 public:
  explicit FakeEngine(size_t classes = 4) : in_(8), out_(classes) {}
  bool ready() const override { return true; }
  ModelInfo info() const override { return {7, version, "fake", 100}; }
  std::span<int8_t> input() override { return in_; }
  bool invoke() override {
    if (fail) return false;
    for (size_t i = 0; i < out_.size(); ++i) out_[i] = static_cast<int8_t>(-128 + 10 * i);
    out_[static_cast<uint8_t>(in_[0]) % out_.size()] = 127;
    return true;
  }
  std::span<const int8_t> output() const override { return out_; }
  int32_t output_zero_point() const override { return -128; }
  bool fail = false;
  uint32_t version = 3;  // tests change it to stand for an activated update

 private:
  std::vector<int8_t> in_;
  std::vector<int8_t> out_;
};

class FakeBearer final : public Bearer {
 public:
  bool connected() override { return up; }
  bool send(std::span<const uint8_t> bytes) override {
    if (!up || refuse) return false;
    tinyedge_v1_Uplink msg = tinyedge_v1_Uplink_init_zero;
    const auto r = protocol::decode_uplink(bytes, msg);
    if (!r.ok) ++undecodable;
    sent.push_back(msg);
    return true;
  }
  size_t receive(std::span<uint8_t> out) override {
    if (inbox.empty()) return 0;
    const std::vector<uint8_t> msg = inbox.front();
    inbox.pop_front();
    std::copy(msg.begin(), msg.end(), out.begin());
    return msg.size();
  }
  void push_downlink(const tinyedge_v1_Downlink& d) {
    std::vector<uint8_t> buf(protocol::kMaxDownlinkBytes);
    const auto r = protocol::encode_downlink(d, buf);
    buf.resize(r.size);
    inbox.push_back(buf);
  }
  void ack(uint32_t boot_id, uint32_t through) {
    tinyedge_v1_Downlink d = tinyedge_v1_Downlink_init_zero;
    d.which_payload = tinyedge_v1_Downlink_ack_tag;
    d.payload.ack.boot_id = boot_id;
    d.payload.ack.through_seq = through;
    push_downlink(d);
  }
  // Seqs of every result sent, in order.
  std::vector<uint32_t> result_seqs() const {
    std::vector<uint32_t> seqs;
    for (const auto& m : sent) {
      if (m.which_payload != tinyedge_v1_Uplink_results_tag) continue;
      for (pb_size_t i = 0; i < m.payload.results.results_count; ++i) seqs.push_back(m.seq + i);
    }
    return seqs;
  }
  size_t count(pb_size_t tag) const {
    size_t n = 0;
    for (const auto& m : sent) n += m.which_payload == tag;
    return n;
  }
  bool up = true;
  bool refuse = false;
  int undecodable = 0;
  std::vector<tinyedge_v1_Uplink> sent;
  std::deque<std::vector<uint8_t>> inbox;
};

}  // namespace tinyedge::app::testing
