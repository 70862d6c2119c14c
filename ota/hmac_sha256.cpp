#include "ota/hmac_sha256.h"

namespace tinyedge::ota {

HmacSha256::HmacSha256(std::span<const uint8_t> key) {
  uint8_t block[kBlockBytes] = {};
  if (key.size() > kBlockBytes) {
    const Digest hashed = sha256(key);
    for (size_t i = 0; i < hashed.size(); ++i) block[i] = hashed[i];
  } else {
    for (size_t i = 0; i < key.size(); ++i) block[i] = key[i];
  }
  uint8_t inner_pad[kBlockBytes];
  for (size_t i = 0; i < kBlockBytes; ++i) {
    inner_pad[i] = static_cast<uint8_t>(block[i] ^ 0x36);
    outer_pad_[i] = static_cast<uint8_t>(block[i] ^ 0x5c);
  }
  inner_.update(inner_pad);
  // The key must not linger on the stack.
  volatile uint8_t* wipe = block;
  for (size_t i = 0; i < kBlockBytes; ++i) wipe[i] = 0;
  wipe = inner_pad;
  for (size_t i = 0; i < kBlockBytes; ++i) wipe[i] = 0;
}

HmacSha256::~HmacSha256() {
  volatile uint8_t* wipe = outer_pad_;
  for (size_t i = 0; i < kBlockBytes; ++i) wipe[i] = 0;
}

Digest HmacSha256::finish() {
  const Digest inner = inner_.finish();
  Sha256 outer;
  outer.update(outer_pad_);
  outer.update(inner);
  return outer.finish();
}

}  // namespace tinyedge::ota
