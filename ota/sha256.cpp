#include "ota/sha256.h"

namespace tinyedge::ota {

Sha256::Sha256() {
  mbedtls_sha256_init(&context_);
  mbedtls_sha256_starts_ret(&context_, 0);
}

Sha256::~Sha256() { mbedtls_sha256_free(&context_); }

void Sha256::update(std::span<const uint8_t> bytes) {
  if (!bytes.empty()) mbedtls_sha256_update_ret(&context_, bytes.data(), bytes.size());
}

Digest Sha256::finish() {
  Digest digest{};
  mbedtls_sha256_finish_ret(&context_, digest.data());
  return digest;
}

Digest sha256(std::span<const uint8_t> bytes) {
  Sha256 hash;
  hash.update(bytes);
  return hash.finish();
}

bool digest_equal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace tinyedge::ota
