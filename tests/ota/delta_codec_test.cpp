// PAYLOAD_LZ_DELTA: blocks that copy from a base model round-trip, cost a few bytes where the new
// model repeats the base, refuse copies outside the base, and sign the base's SHA-256.
#include <gtest/gtest.h>

#include <cstring>

#include "ota/block_codec.h"
#include "ota/block_encoder.h"
#include "ota/package.h"
#include "ota/package_verify.h"
#include "ota/sha256.h"
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

// The base with only its last `changed` bytes replaced: a model whose head was fine-tuned.
std::vector<uint8_t> fine_tuned(const std::vector<uint8_t>& base, size_t changed, uint32_t seed) {
  std::vector<uint8_t> bytes = base;
  const auto head = noise(changed, seed);
  std::copy(head.begin(), head.end(), bytes.end() - static_cast<std::ptrdiff_t>(changed));
  return bytes;
}

class Sink final : public BlockSink {
 public:
  explicit Sink(size_t size) : bytes(size, 0xFF) {}
  bool write(size_t offset, std::span<const uint8_t> data) override {
    if (offset % kOutputAlign != 0 || offset + data.size() > bytes.size()) return false;
    for (size_t i = 0; i < data.size(); ++i) bytes[offset + i] &= data[i];
    return true;
  }
  bool read(size_t offset, std::span<uint8_t> out) const override {
    if (offset + out.size() > bytes.size()) return false;
    std::memcpy(out.data(), bytes.data() + offset, out.size());
    return true;
  }
  std::vector<uint8_t> bytes;
};

TEST(DeltaCodec, RoundTripsAgainstTheBaseAndCostsLittleWhereTheModelDidNotChange) {
  const auto base = noise(40000, 1);
  struct Case {
    const char* name;
    std::vector<uint8_t> payload;
  };
  std::vector<uint8_t> shifted(base.begin() + 333, base.end());  // layout moved: copies at an offset
  shifted.insert(shifted.begin(), 100, 0x5A);
  std::vector<uint8_t> grown = base;  // longer than the base: copies must stop at the base's end
  const auto tail = noise(3000, 9);
  grown.insert(grown.end(), tail.begin(), tail.end());
  const std::vector<Case> cases = {
      {"same as base", base},        {"head fine-tuned", fine_tuned(base, 2000, 2)},
      {"shifted", shifted},          {"grown", grown},
      {"unrelated", noise(9000, 3)}, {"17 bytes", std::vector<uint8_t>(base.begin(), base.begin() + 17)},
  };
  for (uint32_t block_bytes : {128u, 512u}) {
    for (const Case& c : cases) {
      const auto wire = encode_delta_blocks(c.payload, base, block_bytes);
      ASSERT_EQ(decode_delta_blocks(wire, block_bytes, static_cast<uint32_t>(c.payload.size()), base), c.payload)
          << c.name << " in " << block_bytes << "-byte blocks does not round-trip";
    }
  }
  EXPECT_LT(encode_delta_blocks(base, base, 512).size(), 40000u / 100) << "an unchanged model costs ~9 bytes a block";
  EXPECT_LT(encode_delta_blocks(fine_tuned(base, 2000, 2), base, 512).size(), 2000u * 106 / 100)
      << "only the changed head should cost its bytes";
  EXPECT_LT(encode_delta_blocks(shifted, base, 512).size(), 500u) << "a moved layout is still one copy per block";
  EXPECT_THROW(encode_delta_blocks(base, {}, 512), PackageError);
}

// Hand-made blocks: header (start 0, length 32), then one token.
std::vector<uint8_t> block_with(std::initializer_list<uint8_t> tokens) {
  std::vector<uint8_t> block(kBlockHeaderBytes + tokens.size(), 0);
  block[4] = 32;
  size_t at = kBlockHeaderBytes;
  for (uint8_t token : tokens) block[at++] = token;
  return block;
}

TEST(DeltaCodec, CopiesOutsideTheBaseAndOverlongVarintsAreRefused) {
  const auto base = noise(100, 4);
  BlockRange range;
  {
    Sink sink(32);
    // 0x40 | 0x3F: long form, offset +0, length 67 + 0 - more than the block's 32 bytes.
    EXPECT_EQ(decode_delta_block(block_with({0x7F, 0x00, 0x00}), 32, base, sink, range), Reason::kBadEncoding);
  }
  {
    Sink sink(32);
    // length 28 + 4 = 32 from base offset 0 (zigzag 0): fine.
    EXPECT_EQ(decode_delta_block(block_with({0x40 | 28, 0x00}), 32, base, sink, range), Reason::kOk);
    EXPECT_TRUE(std::equal(sink.bytes.begin(), sink.bytes.end(), base.begin()));
  }
  {
    Sink sink(32);
    // from offset +80 (zigzag 160 = 0xA0 0x01): 80 + 32 > 100 bytes of base.
    EXPECT_EQ(decode_delta_block(block_with({0x40 | 28, 0xA0, 0x01}), 32, base, sink, range), Reason::kBadEncoding);
  }
  {
    Sink sink(32);
    // from offset -1 (zigzag 1): before the base.
    EXPECT_EQ(decode_delta_block(block_with({0x40 | 28, 0x01}), 32, base, sink, range), Reason::kBadEncoding);
  }
  {
    Sink sink(32);
    // a 6-byte varint
    EXPECT_EQ(decode_delta_block(block_with({0x40 | 28, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}), 32, base, sink, range),
              Reason::kBadEncoding);
  }
  {
    Sink sink(32);
    // Without a base (a node that runs nothing), any base copy is refused.
    EXPECT_EQ(decode_delta_block(block_with({0x40 | 28, 0x00}), 32, {}, sink, range), Reason::kBadEncoding);
  }
  {
    Sink sink(32);
    // In a PAYLOAD_LZ_BLOCKS block the same byte is a literal run of 93: past the block's end.
    EXPECT_EQ(decode_block(block_with({0x40 | 28, 0x00}), 32, sink, range), Reason::kBadEncoding);
  }
}

TEST(DeltaPackage, SignsTheBaseDigestAndVerifiesOnlyAgainstThatBase) {
  const SigningKey key = SigningKey::generate();
  const TrustedKey trusted = make_trusted_key(key.public_point());
  std::vector<uint8_t> base = noise(30000, 5);
  rollout::testing::stamp_tem_identity(base, 7, 2);
  PackageSpec spec;
  spec.model_id = 7;
  spec.version = 3;
  spec.model_name = "ad01";
  spec.payload = fine_tuned(base, 1500, 6);
  rollout::testing::stamp_tem_identity(spec.payload, 7, 3);
  spec.arena_bytes = 4096;
  spec.created_at = 1700000000;
  spec.encoding = tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA;
  spec.base = base;
  const Package package = parse_package(encode_package(create_package(spec, key)));
  const Manifest manifest = manifest_of(package);
  EXPECT_EQ(manifest.encoding, tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA);
  EXPECT_TRUE(digest_equal(sha256(base), std::span(manifest.base_sha256.bytes, manifest.base_sha256.size)))
      << "the manifest must name the base's installed SHA-256";
  EXPECT_LT(package.payload.size(), 1700u);
  EXPECT_EQ(installed_payload(package, base), spec.payload);
  const PackageVerdict verdict = verify_package(package, std::span(&trusted, 1), base);
  EXPECT_TRUE(verdict.ok()) << verdict.detail;

  PackageVerdict refused = verify_package(package, std::span(&trusted, 1));
  EXPECT_EQ(refused.reason, Reason::kBaseMismatch);
  EXPECT_NE(refused.detail.find("--base"), std::string::npos) << refused.detail;
  std::vector<uint8_t> other = base;
  other[5000] ^= 1;
  refused = verify_package(package, std::span(&trusted, 1), other);
  EXPECT_EQ(refused.reason, Reason::kBaseMismatch);
  EXPECT_NE(refused.detail.find("not this delta's base"), std::string::npos) << refused.detail;
  EXPECT_THROW((void)installed_payload(package, other), PackageError);
  EXPECT_THROW((void)installed_payload(package), PackageError);

  // A wire byte changed inside a base copy's operands: refused by the decoder or the digest.
  for (size_t at : {size_t{6}, size_t{7}, package.payload.size() / 2, package.payload.size() - 1}) {
    Package damaged = package;
    damaged.payload[at] ^= 0x10;
    refused = verify_package(damaged, std::span(&trusted, 1), base);
    EXPECT_TRUE(refused.reason == Reason::kBadEncoding || refused.reason == Reason::kHashMismatch)
        << "wire byte " << at << ": " << to_string(refused.reason) << " " << refused.detail;
  }
}

}  // namespace
}  // namespace tinyedge::ota
