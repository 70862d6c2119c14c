#include "ota/link_proof.h"

#include "ota/hmac_sha256.h"

namespace tinyedge::ota {
namespace {

constexpr char kLabel[] = "tinyedge-link-proof-v1";  // the terminating NUL is part of the label

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

bool link_proof(std::span<const uint8_t, kLinkKeyBytes> key, std::span<const uint8_t> nonce, std::string_view node_id,
                uint32_t boot_id, std::span<uint8_t, kLinkProofBytes> out) {
  if (nonce.size() > 255 || node_id.size() > 255) return false;
  HmacSha256 mac(key);
  mac.update({reinterpret_cast<const uint8_t*>(kLabel), sizeof kLabel});
  const uint8_t nonce_length = static_cast<uint8_t>(nonce.size());
  mac.update({&nonce_length, 1});
  mac.update(nonce);
  const uint8_t id_length = static_cast<uint8_t>(node_id.size());
  mac.update({&id_length, 1});
  mac.update({reinterpret_cast<const uint8_t*>(node_id.data()), node_id.size()});
  const uint8_t boot[4] = {static_cast<uint8_t>(boot_id), static_cast<uint8_t>(boot_id >> 8),
                           static_cast<uint8_t>(boot_id >> 16), static_cast<uint8_t>(boot_id >> 24)};
  mac.update(boot);
  const Digest digest = mac.finish();
  for (size_t i = 0; i < kLinkProofBytes; ++i) out[i] = digest[i];
  return true;
}

bool link_proof_valid(std::span<const uint8_t, kLinkKeyBytes> key, std::span<const uint8_t> nonce,
                      std::string_view node_id, uint32_t boot_id, std::span<const uint8_t> mac) {
  if (mac.size() != kLinkProofBytes) return false;
  std::array<uint8_t, kLinkProofBytes> expected{};
  if (!link_proof(key, nonce, node_id, boot_id, expected)) return false;
  return digest_equal(expected, mac);
}

bool parse_link_key(std::string_view text, LinkKey& out) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.size() != 2 * kLinkKeyBytes) return false;
  LinkKey key{};
  for (size_t i = 0; i < kLinkKeyBytes; ++i) {
    const int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    key[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  out = key;
  return true;
}

}  // namespace tinyedge::ota
