// HMAC-SHA256 (RFC 2104) on Mbed TLS's SHA-256, with no allocation: Mbed TLS's own HMAC goes
// through the md layer, which takes its contexts from the heap.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "ota/sha256.h"

namespace tinyedge::ota {

class HmacSha256 {
 public:
  // Keys longer than the 64-byte block are hashed first, as RFC 2104 says.
  explicit HmacSha256(std::span<const uint8_t> key);
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;
  ~HmacSha256();

  void update(std::span<const uint8_t> bytes) { inner_.update(bytes); }
  Digest finish();

 private:
  static constexpr size_t kBlockBytes = 64;
  uint8_t outer_pad_[kBlockBytes];
  Sha256 inner_;
};

}  // namespace tinyedge::ota
