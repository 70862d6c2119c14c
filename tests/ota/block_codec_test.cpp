// PAYLOAD_LZ_BLOCKS: the encoder and the node's decoder agree on every shape of payload, blocks
// tile the payload on the write grid, and a damaged block never writes outside the payload.
#include "ota/block_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "ota/block_encoder.h"
#include "ota/package.h"
#include "ota/package_verify.h"
#include "ota/signing_key.h"
#include "tests/rollout/test_packages.h"

namespace tinyedge::ota {
namespace {

std::vector<uint8_t> noise(size_t size, uint32_t seed) {
  std::vector<uint8_t> bytes(size);
  for (auto& b : bytes) {
    seed = seed * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(seed >> 24);
  }
  return bytes;
}

// Like int8 weights: zero rows, small values near zero, repeated rows, a noisy tail.
std::vector<uint8_t> weights(size_t size, uint32_t seed) {
  std::vector<uint8_t> bytes = noise(size, seed);
  for (size_t i = 0; i < size; ++i) {
    const size_t row = i / 48;
    if (row % 7 == 0) {
      bytes[i] = 0;
    } else if (row % 7 == 3 && i >= 96) {
      bytes[i] = bytes[i - 96];
    } else if (i < size * 3 / 4) {
      bytes[i] = static_cast<uint8_t>(static_cast<int8_t>(bytes[i]) / 24);
    }
  }
  return bytes;
}

// Records where a decode wrote, to hold the decoder to the payload and the block's own range.
class RecordingSink final : public BlockSink {
 public:
  explicit RecordingSink(size_t size) : bytes(size, 0xFF), written(size, 0) {}
  bool write(size_t offset, std::span<const uint8_t> data) override {
    if (offset % kOutputAlign != 0 || offset + data.size() > bytes.size()) {
      out_of_range = true;
      return false;
    }
    for (size_t i = 0; i < data.size(); ++i) {
      bytes[offset + i] &= data[i];
      ++written[offset + i];
    }
    return true;
  }
  bool read(size_t offset, std::span<uint8_t> out) const override {
    if (offset + out.size() > bytes.size()) return false;
    std::memcpy(out.data(), bytes.data() + offset, out.size());
    return true;
  }
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> written;
  bool out_of_range = false;
};

TEST(BlockCodec, EveryShapeOfPayloadRoundTripsAndBlocksTileItOnTheWriteGrid) {
  struct Case {
    const char* name;
    std::vector<uint8_t> payload;
  };
  const std::vector<Case> cases = {
      {"1 byte", noise(1, 1)},
      {"15 bytes", noise(15, 2)},
      {"16 bytes", noise(16, 3)},
      {"17 bytes", std::vector<uint8_t>(17, 0)},
      {"noise 20000", noise(20000, 4)},
      {"zeros 200000", std::vector<uint8_t>(200000, 0)},
      {"weights 30001", weights(30001, 5)},
      {"alternating",
       [] {
         std::vector<uint8_t> v(9000);
         for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i % 3 == 0 ? 0x80 : i % 251);
         return v;
       }()},
  };
  for (uint32_t block_bytes : {128u, 256u, 512u}) {
    for (const Case& c : cases) {
      const auto wire = encode_lz_blocks(c.payload, block_bytes);
      ASSERT_EQ(decode_lz_blocks(wire, block_bytes, static_cast<uint32_t>(c.payload.size())), c.payload)
          << c.name << " in " << block_bytes << "-byte blocks does not round-trip";
      // Blocks in wire order cover the payload once, each starting where the last ended.
      RecordingSink sink(c.payload.size());
      uint32_t next = 0;
      for (size_t at = 0; at < wire.size(); at += block_bytes) {
        const auto block = std::span(wire).subspan(at, std::min<size_t>(block_bytes, wire.size() - at));
        if (at + block_bytes < wire.size()) {
          ASSERT_EQ(block.size(), block_bytes) << c.name;
        }
        BlockRange range;
        ASSERT_EQ(decode_block(block, static_cast<uint32_t>(c.payload.size()), sink, range), Reason::kOk) << c.name;
        ASSERT_EQ(range.start, next) << c.name << ": block at wire " << at << " leaves a gap or overlaps";
        next = range.start + range.length;
      }
      EXPECT_EQ(next, c.payload.size()) << c.name;
      EXPECT_TRUE(std::all_of(sink.written.begin(), sink.written.end(), [](uint8_t n) { return n == 1; }))
          << c.name << ": a byte was programmed twice or never";
    }
  }
  const auto zeros = encode_lz_blocks(std::vector<uint8_t>(200000, 0), 512);
  EXPECT_LT(zeros.size(), 200000u / 40) << "runs of zeros should cost ~2 bytes per 130";
  const auto random = encode_lz_blocks(noise(20000, 4), 512);
  EXPECT_LT(random.size(), 20000u * 104 / 100) << "incompressible bytes should cost at most ~4 % more";
}

TEST(BlockCodec, DamagedBlocksAreRefusedOrStayInsideThePayload) {
  const auto payload = weights(6000, 9);
  const auto wire = encode_lz_blocks(payload, 256);
  size_t refused = 0, decoded = 0;
  uint32_t seed = 77;
  for (size_t trial = 0; trial < 20000; ++trial) {
    seed = seed * 1103515245u + 12345u;
    const size_t block_index = (seed >> 8) % (wire.size() / 256);
    std::vector<uint8_t> block(wire.begin() + static_cast<std::ptrdiff_t>(block_index * 256),
                               wire.begin() + static_cast<std::ptrdiff_t>(block_index * 256 + 256));
    const size_t bit = (seed >> 3) % (block.size() * 8);
    block[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    if (trial % 5 == 0) block.resize((seed >> 16) % block.size());  // and truncated
    RecordingSink sink(payload.size());
    BlockRange range;
    const Reason reason = decode_block(block, static_cast<uint32_t>(payload.size()), sink, range);
    ASSERT_FALSE(sink.out_of_range) << "trial " << trial << ": wrote outside the payload or off the grid";
    ASSERT_TRUE(reason == Reason::kOk || reason == Reason::kBadEncoding) << to_string(reason);
    (reason == Reason::kOk ? decoded : refused)++;
    for (size_t i = 0; i < payload.size(); ++i) {
      if (sink.written[i] == 0) continue;
      ASSERT_GE(i, range.start) << "trial " << trial << ": wrote before the block's range";
      ASSERT_LT(i, range.start + range.length) << "trial " << trial << ": wrote past the block's range";
    }
  }
  EXPECT_GT(refused, 0u);
  EXPECT_GT(decoded, 0u);  // flips in literal bytes decode (the payload hash refuses them later)
  RecordingSink sink(payload.size());
  BlockRange range;
  EXPECT_EQ(decode_block(std::span(wire).first(5), static_cast<uint32_t>(payload.size()), sink, range),
            Reason::kBadEncoding)
      << "a block shorter than its header";

  // What follows the tokens must be zeros: a changed padding byte is refused, not ignored.
  std::vector<uint8_t> block = encode_lz_blocks(std::vector<uint8_t>(100, 0), 256);
  block.push_back(0);
  RecordingSink zero_padded(100);
  EXPECT_EQ(decode_block(block, 100, zero_padded, range), Reason::kOk);
  block.back() = 0x20;
  RecordingSink flipped(100);
  EXPECT_EQ(decode_block(block, 100, flipped, range), Reason::kBadEncoding) << "non-zero padding";
}

PackageSpec compressed_spec(std::vector<uint8_t> payload) {
  PackageSpec spec;
  spec.model_id = 7;
  spec.version = 3;
  spec.model_name = "ad01";
  spec.payload = std::move(payload);
  rollout::testing::stamp_tem_identity(spec.payload, 7, 3);
  spec.arena_bytes = 4096;
  spec.created_at = 1700000000;
  spec.encoding = tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_BLOCKS;
  return spec;
}

TEST(CompressedPackage, SignsTheInstalledBytesAndVerifiesThroughTheFileFormat) {
  const SigningKey key = SigningKey::generate();
  const TrustedKey trusted = make_trusted_key(key.public_point());
  const PackageSpec spec = compressed_spec(weights(40000, 3));
  const Package package = create_package(spec, key);
  const Manifest manifest = manifest_of(package);
  EXPECT_EQ(manifest.encoding, tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_BLOCKS);
  EXPECT_EQ(manifest.payload_size, spec.payload.size());
  EXPECT_EQ(manifest.wire_size, package.payload.size());
  EXPECT_LT(package.payload.size(), spec.payload.size() * 4 / 5);
  EXPECT_TRUE(digest_equal(sha256(spec.payload), std::span(manifest.payload_sha256.bytes, 32)))
      << "the digest must be the installed bytes'";
  const Package parsed = parse_package(encode_package(package));
  EXPECT_EQ(installed_payload(parsed), spec.payload);
  const PackageVerdict verdict = verify_package(parsed, std::span(&trusted, 1));
  EXPECT_TRUE(verdict.ok()) << verdict.detail;

  // Tampered wire bytes: refused by the decoder or by the digest, and said which.
  Package header = package;
  header.payload[0] ^= 0x01;  // out_start off the grid
  PackageVerdict refused = verify_package(header, std::span(&trusted, 1));
  EXPECT_EQ(refused.reason, Reason::kBadEncoding) << refused.detail;
  EXPECT_NE(refused.detail.find("block 0"), std::string::npos) << refused.detail;
  Package literal = package;
  literal.payload[7] ^= 0x40;  // inside the first literal run
  refused = verify_package(literal, std::span(&trusted, 1));
  EXPECT_EQ(refused.reason, Reason::kHashMismatch) << refused.detail;
  EXPECT_NE(refused.detail.find("decoded"), std::string::npos) << refused.detail;
  Package cut = package;
  cut.payload.pop_back();
  EXPECT_THROW(parse_package(encode_package(cut)), PackageError);
}

}  // namespace
}  // namespace tinyedge::ota
