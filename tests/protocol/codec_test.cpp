#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "protocol/codec.h"

namespace tinyedge::protocol {
namespace {

template <typename T>
std::vector<uint8_t> encode_or_fail(const pb_msgdesc_t* fields, const T& message, size_t max) {
  std::vector<uint8_t> out(max);
  const auto result = encode_message(fields, &message, out);
  EXPECT_TRUE(result.ok) << result.error;
  out.resize(result.size);
  return out;
}

tinyedge_v1_Uplink base_uplink(pb_size_t which) {
  tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
  up.seq = 1234;
  up.boot_id = 0xC0FFEE;
  std::strcpy(up.node_id, "node-0042");
  up.which_payload = which;
  return up;
}

tinyedge_v1_Uplink round_trip(const tinyedge_v1_Uplink& up) {
  std::vector<uint8_t> wire(kMaxUplinkBytes);
  const auto encoded = encode_uplink(up, wire);
  EXPECT_TRUE(encoded.ok) << encoded.error;
  tinyedge_v1_Uplink back;
  const auto decoded = decode_uplink(std::span(wire.data(), encoded.size), back);
  EXPECT_TRUE(decoded.ok) << decoded.error;
  EXPECT_EQ(back.seq, up.seq);
  EXPECT_EQ(back.boot_id, up.boot_id);
  EXPECT_STREQ(back.node_id, up.node_id);
  EXPECT_EQ(back.which_payload, up.which_payload);
  return back;
}

TEST(Codec, HelloRoundTrips) {
  auto up = base_uplink(tinyedge_v1_Uplink_hello_tag);
  std::strcpy(up.payload.hello.hardware, "mps2-an386");
  up.payload.hello.firmware_version = 3;
  up.payload.hello.model_id = 7;
  up.payload.hello.model_version = 12;
  up.payload.hello.slot_bytes = 65536;
  up.payload.hello.arena_bytes = 4096;
  up.payload.hello.key_id.size = 8;
  std::memset(up.payload.hello.key_id.bytes, 0xAB, 8);
  std::strcpy(up.payload.hello.model_name, "kws");
  const auto back = round_trip(up);
  EXPECT_STREQ(back.payload.hello.hardware, "mps2-an386");
  EXPECT_EQ(back.payload.hello.model_version, 12u);
  EXPECT_EQ(back.payload.hello.arena_bytes, 4096u);
  EXPECT_EQ(back.payload.hello.key_id.size, 8u);
  EXPECT_EQ(back.payload.hello.key_id.bytes[7], 0xAB);
  EXPECT_STREQ(back.payload.hello.model_name, "kws");
}

TEST(Codec, BatchedInferenceResultsRoundTrip) {
  auto up = base_uplink(tinyedge_v1_Uplink_results_tag);
  auto& batch = up.payload.results;
  batch.model_version = 2;
  batch.model_id = 9;
  batch.results_count = 16;
  for (pb_size_t i = 0; i < batch.results_count; ++i) {
    auto& r = batch.results[i];
    r.label = i % 10;
    r.score = 200 + i;
    r.latency_us = 1000 * i;
    r.age_ms = 50 * i;
    r.sample_id = 100 + i;
    r.runners_up_count = 2;
    r.runners_up[0] = {(i + 1u) % 10u, 30};
    r.runners_up[1] = {(i + 2u) % 10u, 5};
  }
  const auto back = round_trip(up);
  ASSERT_EQ(back.payload.results.results_count, 16u);
  for (pb_size_t i = 0; i < 16; ++i) {
    const auto& r = back.payload.results.results[i];
    EXPECT_EQ(r.label, i % 10);
    EXPECT_EQ(r.score, 200 + i);
    EXPECT_EQ(r.latency_us, 1000 * i);
    EXPECT_EQ(r.sample_id, 100 + i);
    ASSERT_EQ(r.runners_up_count, 2u);
    EXPECT_EQ(r.runners_up[1].score, 5u);
  }
}

TEST(Codec, TopOneResultFitsInSixteenBytes) {
  // A realistic top-1 result: a long-running node (seq lives in the Uplink), version 2,
  // label 7 at probability 230/255, 5 ms latency.
  tinyedge_v1_InferenceResults batch = tinyedge_v1_InferenceResults_init_zero;
  batch.model_version = 2;
  batch.model_id = 3;
  batch.results_count = 1;
  batch.results[0].label = 7;
  batch.results[0].score = 230;
  batch.results[0].latency_us = 5000;
  const auto bytes = encode_or_fail(tinyedge_v1_InferenceResults_fields, batch, tinyedge_v1_InferenceResults_size);
  EXPECT_LE(bytes.size(), 16u) << "top-1 InferenceResults takes " << bytes.size() << " bytes";
  // Worst realistic case: every field at its largest plausible value still fits.
  batch.model_version = 1000;
  batch.model_id = 100;
  batch.results[0].label = 999;
  batch.results[0].score = 255;
  batch.results[0].latency_us = 2000000;
  const auto worst = encode_or_fail(tinyedge_v1_InferenceResults_fields, batch, tinyedge_v1_InferenceResults_size);
  EXPECT_LE(worst.size(), 20u) << "large-valued top-1 InferenceResults takes " << worst.size() << " bytes";
}

TEST(Codec, TelemetryOtaStatusAndChunkRequestRoundTrip) {
  auto up = base_uplink(tinyedge_v1_Uplink_telemetry_tag);
  up.payload.telemetry = {3600, 12000, 2048, 850, 3, 5, 2, 9, 40, 40 * 490, -123456789, 987654321012};
  auto back = round_trip(up);
  EXPECT_EQ(back.payload.telemetry.input_inferences, 40u);
  EXPECT_EQ(back.payload.telemetry.input_sum, -123456789) << "a negative input sum (sint64) must survive the wire";
  EXPECT_EQ(back.payload.telemetry.input_sum_squares, 987654321012u);
  EXPECT_EQ(back.payload.telemetry.uptime_s, 3600u);
  EXPECT_EQ(back.payload.telemetry.dropped_results, 3u);
  EXPECT_EQ(back.payload.telemetry.reconnects, 2u);
  EXPECT_EQ(back.payload.telemetry.failed_inferences, 9u);

  up = base_uplink(tinyedge_v1_Uplink_ota_status_tag);
  up.payload.ota_status = {7, 3, tinyedge_v1_OtaState_OTA_FAILED, tinyedge_v1_OtaReason_OTA_SELF_TEST_FAILED, 4096, 8192, 2};
  back = round_trip(up);
  EXPECT_EQ(back.payload.ota_status.state, tinyedge_v1_OtaState_OTA_FAILED);
  EXPECT_EQ(back.payload.ota_status.reason, tinyedge_v1_OtaReason_OTA_SELF_TEST_FAILED);
  EXPECT_EQ(back.payload.ota_status.active_version, 2u);

  up = base_uplink(tinyedge_v1_Uplink_chunk_request_tag);
  up.payload.chunk_request = {7, 3, 65536, 512};
  back = round_trip(up);
  EXPECT_EQ(back.payload.chunk_request.offset, 65536u);
  EXPECT_EQ(back.payload.chunk_request.length, 512u);

  up = base_uplink(tinyedge_v1_Uplink_link_proof_tag);
  up.payload.link_proof.mac.size = 32;
  for (uint8_t i = 0; i < 32; ++i) up.payload.link_proof.mac.bytes[i] = static_cast<uint8_t>(0xA0 + i);
  back = round_trip(up);
  ASSERT_EQ(back.payload.link_proof.mac.size, 32u);
  EXPECT_EQ(0, std::memcmp(back.payload.link_proof.mac.bytes, up.payload.link_proof.mac.bytes, 32));
}

tinyedge_v1_Downlink round_trip(const tinyedge_v1_Downlink& down) {
  std::vector<uint8_t> wire(kMaxDownlinkBytes);
  const auto encoded = encode_downlink(down, wire);
  EXPECT_TRUE(encoded.ok) << encoded.error;
  tinyedge_v1_Downlink back;
  const auto decoded = decode_downlink(std::span(wire.data(), encoded.size), back);
  EXPECT_TRUE(decoded.ok) << decoded.error;
  EXPECT_EQ(back.seq, down.seq);
  EXPECT_EQ(back.which_payload, down.which_payload);
  return back;
}

TEST(Codec, EveryDownlinkRoundTrips) {
  tinyedge_v1_Downlink down = tinyedge_v1_Downlink_init_zero;
  down.seq = 77;
  down.which_payload = tinyedge_v1_Downlink_ack_tag;
  down.payload.ack = {0xC0FFEE, 4095};
  EXPECT_EQ(round_trip(down).payload.ack.through_seq, 4095u);

  down.which_payload = tinyedge_v1_Downlink_offer_tag;
  auto& offer = down.payload.offer;
  offer.manifest.size = sizeof(offer.manifest.bytes);
  for (size_t i = 0; i < offer.manifest.size; ++i) offer.manifest.bytes[i] = static_cast<uint8_t>(i);
  offer.signature.size = 71;
  std::memset(offer.signature.bytes, 0x5A, 71);
  offer.chunk_size = 256;
  offer.rollback_grant.size = 40;
  offer.rollback_signature.size = 70;
  auto back = round_trip(down);
  EXPECT_EQ(back.payload.offer.manifest.size, sizeof(offer.manifest.bytes));
  EXPECT_EQ(0, std::memcmp(back.payload.offer.manifest.bytes, offer.manifest.bytes, offer.manifest.size));
  EXPECT_EQ(back.payload.offer.signature.size, 71u);
  EXPECT_EQ(back.payload.offer.rollback_grant.size, 40u);

  down.which_payload = tinyedge_v1_Downlink_chunk_tag;
  down.payload.chunk = tinyedge_v1_Chunk_init_zero;
  down.payload.chunk.version = 3;
  down.payload.chunk.offset = 1024;
  down.payload.chunk.data.size = 512;
  std::memset(down.payload.chunk.data.bytes, 0xEE, 512);
  back = round_trip(down);
  EXPECT_EQ(back.payload.chunk.offset, 1024u);
  EXPECT_EQ(back.payload.chunk.data.size, 512u);

  down.which_payload = tinyedge_v1_Downlink_command_tag;
  down.payload.command = {tinyedge_v1_Command_Kind_SET_REPORT_INTERVAL_MS, 250};
  EXPECT_EQ(round_trip(down).payload.command.value, 250u);

  down.which_payload = tinyedge_v1_Downlink_link_challenge_tag;
  down.payload.link_challenge.nonce.size = 16;
  std::memset(down.payload.link_challenge.nonce.bytes, 0x3C, 16);
  back = round_trip(down);
  ASSERT_EQ(back.payload.link_challenge.nonce.size, 16u);
  EXPECT_EQ(back.payload.link_challenge.nonce.bytes[15], 0x3C);
}

TEST(Codec, ManifestAndRollbackGrantRoundTrip) {
  tinyedge_v1_Manifest m = tinyedge_v1_Manifest_init_zero;
  m.format = 1;
  m.model_id = 4;
  m.version = 9;
  std::strcpy(m.model_name, "fmnist-small-cnn");
  m.payload_size = 70000;
  m.payload_sha256.size = 32;
  m.hardware_count = 2;
  std::strcpy(m.hardware[0], "mps2-an386");
  std::strcpy(m.hardware[1], "host-sim");
  m.self_test_input.size = 784;
  m.self_test_output_sha256.size = 32;
  m.created_at = 1790000000ull;
  const auto bytes = encode_or_fail(tinyedge_v1_Manifest_fields, m, tinyedge_v1_Manifest_size);
  ASSERT_LE(bytes.size(), sizeof(tinyedge_v1_UpdateOffer{}.manifest.bytes)) << "manifest does not fit an UpdateOffer";
  tinyedge_v1_Manifest back;
  ASSERT_TRUE(decode_message(tinyedge_v1_Manifest_fields, bytes, &back).ok);
  EXPECT_EQ(back.version, 9u);
  EXPECT_EQ(back.hardware_count, 2u);
  EXPECT_STREQ(back.hardware[1], "host-sim");
  EXPECT_EQ(back.self_test_input.size, 784u);
  EXPECT_EQ(back.created_at, 1790000000ull);

  tinyedge_v1_RollbackGrant g = tinyedge_v1_RollbackGrant_init_zero;
  g.model_id = 4;
  g.from_version = 9;
  g.to_version = 8;
  g.to_payload_sha256.size = 32;
  g.key_id.size = 8;
  const auto grant = encode_or_fail(tinyedge_v1_RollbackGrant_fields, g, tinyedge_v1_RollbackGrant_size);
  EXPECT_LE(grant.size(), sizeof(tinyedge_v1_UpdateOffer{}.rollback_grant.bytes));
}

TEST(Codec, TruncatedAndGarbageUplinksAreRefusedWithAMessage) {
  auto up = base_uplink(tinyedge_v1_Uplink_hello_tag);
  std::strcpy(up.payload.hello.hardware, "host-sim");
  std::vector<uint8_t> wire(kMaxUplinkBytes);
  const auto encoded = encode_uplink(up, wire);
  ASSERT_TRUE(encoded.ok);
  tinyedge_v1_Uplink back;
  size_t refused = 0;
  for (size_t cut = 1; cut < encoded.size; ++cut) {
    const auto result = decode_uplink(std::span(wire.data(), cut), back);
    if (!result.ok) {
      ++refused;
      EXPECT_NE(result.error, nullptr);
    }
  }
  // Cutting inside a length-delimited field or a varint must be refused.
  EXPECT_GT(refused, encoded.size / 2);

  const uint8_t oversized_string[] = {0x1A, 0x7F, 'x'};  // node_id claims 127 bytes, has 1
  EXPECT_FALSE(decode_uplink(oversized_string, back).ok);
  std::vector<uint8_t> too_long_id = {0x1A, 40};
  too_long_id.resize(42, 'a');  // node_id of 40 bytes exceeds the 33-byte bound
  const auto result = decode_uplink(too_long_id, back);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error, nullptr);
}

TEST(Codec, EncodeIntoTooSmallBufferFails) {
  auto up = base_uplink(tinyedge_v1_Uplink_hello_tag);
  uint8_t tiny[4];
  const auto result = encode_uplink(up, tiny);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error, nullptr);
}

TEST(Codec, EnrollCommandAndEnrollmentStatusRoundTrip) {
  tinyedge_v1_Downlink down = tinyedge_v1_Downlink_init_zero;
  down.seq = 5;
  down.which_payload = tinyedge_v1_Downlink_enroll_tag;
  down.payload.enroll.action = tinyedge_v1_EnrollCommand_Action_START;
  std::strcpy(down.payload.enroll.label, "sixteen-chars-ab");
  down.payload.enroll.examples = 10;
  const auto back_down = round_trip(down);
  EXPECT_STREQ(back_down.payload.enroll.label, "sixteen-chars-ab");
  EXPECT_EQ(back_down.payload.enroll.examples, 10u);

  // The largest status: every field at its bound.
  auto up = base_uplink(tinyedge_v1_Uplink_enrollment_status_tag);
  auto& s = up.payload.enrollment_status;
  s.refusal = tinyedge_v1_EnrollRefusal_ENROLL_COLLIDES;
  std::strcpy(s.label, "sixteen-chars-ab");
  std::memset(s.nearest_label, 'n', sizeof s.nearest_label - 1);
  s.distance_q14 = 32768;
  s.enrolled_count = 8;
  for (auto& e : s.enrolled) std::strcpy(e, "sixteen-chars-ab");
  s.model_id = 0xFFFFFFFF;
  s.model_version = 0xFFFFFFFF;
  const auto back = round_trip(up);
  EXPECT_EQ(back.payload.enrollment_status.refusal, tinyedge_v1_EnrollRefusal_ENROLL_COLLIDES);
  EXPECT_EQ(back.payload.enrollment_status.enrolled_count, 8u);
  EXPECT_EQ(back.payload.enrollment_status.distance_q14, 32768u);
}

}  // namespace
}  // namespace tinyedge::protocol
