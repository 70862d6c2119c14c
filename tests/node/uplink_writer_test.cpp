#include "node_firmware/app/uplink_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace tinyedge::app {
namespace {

class TwoResults final : public ResultSource {
 public:
  size_t count() const override { return 2; }
  void fill(size_t i, tinyedge_v1_InferenceResult& r) const override {
    r.label = static_cast<uint32_t>(3 + i);
    r.score = 200;
    r.latency_us = 1234;
    r.age_ms = static_cast<uint32_t>(i * 10);
    r.runners_up_count = 1;
    r.runners_up[0] = {7, 40};
    r.sample_id = 0;
  }
};

std::vector<uint8_t> reference(const tinyedge_v1_Uplink& up) {
  std::vector<uint8_t> out(protocol::kMaxUplinkBytes);
  const auto r = protocol::encode_uplink(up, out);
  out.resize(r.size);
  return out;
}

TEST(UplinkWriter, ResultsMatchNanopbEncodingOfTheStruct) {
  tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
  up.seq = 17;
  up.boot_id = 99;
  std::strcpy(up.node_id, "n-7");
  up.which_payload = tinyedge_v1_Uplink_results_tag;
  up.payload.results.model_id = 5;
  up.payload.results.model_version = 2;
  up.payload.results.results_count = 2;
  TwoResults src;
  for (size_t i = 0; i < 2; ++i) src.fill(i, up.payload.results.results[i]);

  std::vector<uint8_t> out(256);
  const auto r = encode_uplink_results({17, 99, "n-7"}, 5, 2, src, out);
  ASSERT_TRUE(r.ok) << r.error;
  out.resize(r.size);
  EXPECT_EQ(out, reference(up));

  std::vector<uint8_t> small(20);
  EXPECT_FALSE(encode_uplink_results({17, 99, "n-7"}, 5, 2, src, small).ok) << "must not overrun the buffer";
}

TEST(UplinkWriter, MessageMatchesNanopbEncodingOfTheStruct) {
  tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
  up.boot_id = 3;
  std::strcpy(up.node_id, "abc");
  up.which_payload = tinyedge_v1_Uplink_telemetry_tag;
  up.payload.telemetry.uptime_s = 60;
  up.payload.telemetry.dropped_results = 4;
  std::vector<uint8_t> out(128);
  const auto r = encode_uplink_message({0, 3, "abc"}, tinyedge_v1_Uplink_telemetry_tag, tinyedge_v1_Telemetry_fields,
                                       &up.payload.telemetry, out);
  ASSERT_TRUE(r.ok);
  out.resize(r.size);
  EXPECT_EQ(out, reference(up));
}

}  // namespace
}  // namespace tinyedge::app
