// HMAC-SHA256 against RFC 4231's test vectors, and the link proof built on it: bound to the key,
// the nonce, the node id and the boot id; link key files parsed strictly.
#include "ota/link_proof.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ota/hmac_sha256.h"

namespace tinyedge::ota {
namespace {

std::string hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string hmac_hex(std::span<const uint8_t> key, std::string_view data) {
  HmacSha256 mac(key);
  mac.update(bytes_of(data));
  return hex(mac.finish());
}

TEST(HmacSha256, MatchesRfc4231) {
  const std::vector<uint8_t> key1(20, 0x0b);
  EXPECT_EQ(hmac_hex(key1, "Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hmac_hex(bytes_of("Jefe"), "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const std::vector<uint8_t> long_key(131, 0xaa);  // longer than a block: hashed first
  EXPECT_EQ(hmac_hex(long_key, "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(LinkProof, BindsKeyNonceNodeAndBoot) {
  LinkKey key{}, other_key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  other_key = key;
  other_key[31] ^= 1;
  const std::vector<uint8_t> nonce(kLinkNonceBytes, 0x42);
  std::vector<uint8_t> other_nonce = nonce;
  other_nonce[0] ^= 1;

  std::array<uint8_t, kLinkProofBytes> proof{};
  ASSERT_TRUE(link_proof(key, nonce, "n1", 7, proof));
  EXPECT_TRUE(link_proof_valid(key, nonce, "n1", 7, proof));
  EXPECT_FALSE(link_proof_valid(other_key, nonce, "n1", 7, proof)) << "another node's key";
  EXPECT_FALSE(link_proof_valid(key, other_nonce, "n1", 7, proof)) << "a replay on a link with another nonce";
  EXPECT_FALSE(link_proof_valid(key, nonce, "n2", 7, proof)) << "another node id";
  EXPECT_FALSE(link_proof_valid(key, nonce, "n1", 8, proof)) << "another boot";
  EXPECT_FALSE(link_proof_valid(key, nonce, "n1", 7, std::span(proof).first(31))) << "a truncated MAC";
  std::array<uint8_t, kLinkProofBytes> flipped = proof;
  flipped[5] ^= 0x10;
  EXPECT_FALSE(link_proof_valid(key, nonce, "n1", 7, flipped));

  // The layout is the documented one (label, NUL, length-prefixed nonce and id, boot id LE).
  std::vector<uint8_t> message(bytes_of("tinyedge-link-proof-v1").begin(), bytes_of("tinyedge-link-proof-v1").end());
  message.push_back(0);
  message.push_back(16);
  message.insert(message.end(), nonce.begin(), nonce.end());
  message.push_back(2);
  message.push_back('n');
  message.push_back('1');
  for (uint8_t b : {7, 0, 0, 0}) message.push_back(b);
  HmacSha256 mac(key);
  mac.update(message);
  EXPECT_EQ(hex(mac.finish()), hex(proof));

  const std::string long_id(256, 'a');
  EXPECT_FALSE(link_proof(key, nonce, long_id, 7, proof));
}

TEST(LinkProof, ParsesLinkKeyFilesStrictly) {
  LinkKey key{};
  const std::string text = "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F";
  ASSERT_TRUE(parse_link_key("  " + text + "\n", key));
  EXPECT_EQ(key[0], 0x00);
  EXPECT_EQ(key[26], 0x1a);
  EXPECT_EQ(key[31], 0x1f);
  LinkKey untouched{};
  untouched.fill(0xEE);
  EXPECT_FALSE(parse_link_key(text.substr(0, 62), untouched)) << "31 bytes";
  EXPECT_FALSE(parse_link_key(text + "00", untouched)) << "33 bytes";
  EXPECT_FALSE(parse_link_key("zz" + text.substr(2), untouched)) << "not hex";
  EXPECT_FALSE(parse_link_key("", untouched));
  EXPECT_EQ(untouched[0], 0xEE) << "a refused key leaves the output as it was";
}

}  // namespace
}  // namespace tinyedge::ota
