#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "protocol/ble_gatt.h"
#include "protocol/crc16.h"
#include "protocol/frame.h"

namespace tinyedge::protocol {
namespace {

std::vector<uint8_t> encode(const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out(max_encoded_frame_size(payload.size()));
  const auto result = encode_frame(payload, out);
  EXPECT_EQ(result.status, FrameStatus::kOk) << to_string(result.status);
  out.resize(result.size);
  return out;
}

// Feeds a byte stream to the decoder and collects every frame and every error it reports.
struct Decoded {
  std::vector<std::vector<uint8_t>> frames;
  std::vector<FrameStatus> errors;
};

Decoded decode_stream(FrameDecoder& decoder, const std::vector<uint8_t>& stream) {
  Decoded decoded;
  for (uint8_t byte : stream) {
    const FrameStatus status = decoder.push(byte);
    if (status == FrameStatus::kOk) {
      decoded.frames.emplace_back(decoder.payload().begin(), decoder.payload().end());
    } else if (status != FrameStatus::kNeedMore) {
      decoded.errors.push_back(status);
    }
  }
  return decoded;
}

std::vector<uint8_t> random_bytes(std::mt19937& rng, size_t n) {
  std::vector<uint8_t> bytes(n);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

TEST(Crc16, MatchesTheCcittFalseCheckValue) {
  const uint8_t check[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  EXPECT_EQ(crc16_ccitt(check), 0x29B1);
}

TEST(Frame, EncodedFrameHasNoZeroExceptTheDelimiter) {
  const std::vector<uint8_t> payload = {0, 1, 0, 0, 2, 0};
  const auto wire = encode(payload);
  ASSERT_FALSE(wire.empty());
  EXPECT_EQ(wire.back(), 0);
  for (size_t i = 0; i + 1 < wire.size(); ++i) EXPECT_NE(wire[i], 0) << "zero inside frame at " << i;
}

TEST(Frame, RoundTripsEveryLengthAroundCobsBlockBoundaries) {
  std::mt19937 rng(7);
  StaticFrameDecoder<1024> decoder;
  for (size_t n : {0u, 1u, 2u, 252u, 253u, 254u, 255u, 256u, 508u, 509u, 510u, 1024u}) {
    for (int fill : {-1, 0, 0xFF}) {  // random, all zeros, no zeros
      std::vector<uint8_t> payload = fill < 0 ? random_bytes(rng, n) : std::vector<uint8_t>(n, uint8_t(fill));
      const auto decoded = decode_stream(decoder, encode(payload));
      ASSERT_TRUE(decoded.errors.empty()) << "length " << n << ": " << to_string(decoded.errors[0]);
      ASSERT_EQ(decoded.frames.size(), 1u) << "length " << n;
      EXPECT_EQ(decoded.frames[0], payload) << "length " << n;
    }
  }
}

TEST(Frame, SurvivesEveryMtuFromBleMinimumToMaximum) {
  std::mt19937 rng(11);
  std::vector<std::vector<uint8_t>> payloads;
  for (size_t n : {1u, 12u, 100u, 300u, 1400u}) payloads.push_back(random_bytes(rng, n));
  for (size_t mtu = ble::kMinValueMtu; mtu <= ble::kMaxValueMtu; ++mtu) {
    StaticFrameDecoder<1500> decoder;
    std::vector<std::vector<uint8_t>> received;
    for (const auto& payload : payloads) {
      const auto wire = encode(payload);
      FrameFragmenter fragmenter(wire, mtu);
      while (!fragmenter.done()) {
        const auto fragment = fragmenter.next();
        ASSERT_LE(fragment.size(), mtu);
        ASSERT_FALSE(fragment.empty());
        const auto decoded = decode_stream(decoder, {fragment.begin(), fragment.end()});
        ASSERT_TRUE(decoded.errors.empty()) << "mtu " << mtu << ": " << to_string(decoded.errors[0]);
        for (auto& f : decoded.frames) received.push_back(f);
      }
    }
    ASSERT_EQ(received, payloads) << "mtu " << mtu;
  }
}

TEST(Frame, RejectsEverySingleBitFlipAndRecoversForTheNextFrame) {
  std::mt19937 rng(3);
  const auto payload = random_bytes(rng, 40);
  const auto wire = encode(payload);
  const auto next = encode({1, 2, 3});
  StaticFrameDecoder<256> decoder;
  for (size_t byte = 0; byte + 1 < wire.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      auto corrupt = wire;
      corrupt[byte] ^= static_cast<uint8_t>(1u << bit);
      corrupt.insert(corrupt.end(), next.begin(), next.end());
      const auto decoded = decode_stream(decoder, corrupt);
      // A flip may turn a byte into a delimiter and split the frame: any pieces must be refused.
      for (const auto& frame : decoded.frames) {
        ASSERT_NE(frame, payload) << "corrupted frame accepted (byte " << byte << " bit " << bit << ")";
      }
      ASSERT_FALSE(decoded.errors.empty()) << "no error for flip at byte " << byte << " bit " << bit;
      ASSERT_FALSE(decoded.frames.empty());
      EXPECT_EQ(decoded.frames.back(), (std::vector<uint8_t>{1, 2, 3})) << "did not resynchronise";
    }
  }
}

TEST(Frame, TruncatedFrameIsRejected) {
  const auto wire = encode({9, 8, 7, 6, 5});
  StaticFrameDecoder<64> decoder;
  for (size_t cut = 1; cut + 1 < wire.size(); ++cut) {
    std::vector<uint8_t> truncated(wire.begin(), wire.begin() + static_cast<long>(cut));
    truncated.push_back(0);
    const auto decoded = decode_stream(decoder, truncated);
    EXPECT_TRUE(decoded.frames.empty()) << "accepted a frame truncated to " << cut << " bytes";
    ASSERT_EQ(decoded.errors.size(), 1u) << "cut " << cut;
  }
}

TEST(Frame, OversizedFrameIsDroppedWithoutOverrunAndDecoderRecovers) {
  std::mt19937 rng(5);
  std::vector<uint8_t> canary_guarded(64 + 16, 0xAA);
  FrameDecoder decoder(std::span<uint8_t>(canary_guarded.data(), 64));
  auto stream = encode(random_bytes(rng, 200));
  const auto good = encode({42});
  stream.insert(stream.end(), good.begin(), good.end());
  const auto decoded = decode_stream(decoder, stream);
  ASSERT_EQ(decoded.errors.size(), 1u);
  EXPECT_EQ(decoded.errors[0], FrameStatus::kOverflow);
  ASSERT_EQ(decoded.frames.size(), 1u);
  EXPECT_EQ(decoded.frames[0], std::vector<uint8_t>{42});
  for (size_t i = 64; i < canary_guarded.size(); ++i) ASSERT_EQ(canary_guarded[i], 0xAA) << "overrun at " << i;
}

TEST(Frame, GarbageNeverYieldsAFrameWithABadCrc) {
  std::mt19937 rng(13);
  StaticFrameDecoder<300> decoder;
  size_t accepted = 0;
  for (int round = 0; round < 2000; ++round) {
    const auto garbage = random_bytes(rng, 1 + rng() % 400);
    for (uint8_t byte : garbage) {
      if (decoder.push(byte) == FrameStatus::kOk) {
        ++accepted;
        EXPECT_LE(decoder.payload().size(), 300u);
      }
    }
  }
  // CRC-16 lets about 1 in 65536 random frames through; thousands of frames must not all pass.
  EXPECT_LT(accepted, 5u);
}

TEST(Frame, EncoderRefusesSmallOutputAndHugePayload) {
  std::vector<uint8_t> payload(100, 1);
  std::vector<uint8_t> out(50);
  EXPECT_EQ(encode_frame(payload, out).status, FrameStatus::kOutputTooSmall);
  std::vector<uint8_t> huge(kMaxFramePayload + 1, 1);
  std::vector<uint8_t> big_out(max_encoded_frame_size(huge.size()));
  EXPECT_EQ(encode_frame(huge, big_out).status, FrameStatus::kPayloadTooLarge);
}

TEST(Frame, ErrorsHaveReadableNames) {
  EXPECT_STREQ(to_string(FrameStatus::kBadCrc), "CRC mismatch");
  EXPECT_STREQ(to_string(FrameStatus::kOverflow), "frame longer than the reassembly buffer");
}

}  // namespace
}  // namespace tinyedge::protocol
