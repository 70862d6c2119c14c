// SHA-256 (Mbed TLS), incremental, for manifests, slots and self-test outputs.
#pragma once
#include <mbedtls/sha256.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tinyedge::ota {

inline constexpr size_t kDigestBytes = 32;
using Digest = std::array<uint8_t, kDigestBytes>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::span<const uint8_t> bytes);
  Digest finish();

 private:
  mbedtls_sha256_context context_;
};

Digest sha256(std::span<const uint8_t> bytes);

// Constant-time comparison: digests guard integrity, so do not leak how many bytes matched.
bool digest_equal(std::span<const uint8_t> a, std::span<const uint8_t> b);

}  // namespace tinyedge::ota
