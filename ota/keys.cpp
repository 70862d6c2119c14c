#include "ota/keys.h"

#include <algorithm>

#include "ota/sha256.h"

namespace tinyedge::ota {

KeyId key_id_of(const PublicKey& point) {
  const Digest digest = sha256(point);
  KeyId id{};
  std::copy_n(digest.begin(), id.size(), id.begin());
  return id;
}

TrustedKey make_trusted_key(const PublicKey& point) { return TrustedKey{point, key_id_of(point)}; }

const TrustedKey* find_key(std::span<const TrustedKey> keys, std::span<const uint8_t> key_id) {
  if (key_id.size() != kKeyIdBytes) return nullptr;
  for (const TrustedKey& key : keys) {
    if (std::equal(key.id.begin(), key.id.end(), key_id.begin())) return &key;
  }
  return nullptr;
}

}  // namespace tinyedge::ota
