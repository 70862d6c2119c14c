// Public keys a node trusts: an uncompressed P-256 point and its key id (first 8 bytes of the
// SHA-256 of that point), which manifests and Hello carry so the node picks the key without trying all.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tinyedge::ota {

inline constexpr size_t kPublicKeyBytes = 65;  // 0x04 || X || Y
inline constexpr size_t kKeyIdBytes = 8;
using PublicKey = std::array<uint8_t, kPublicKeyBytes>;
using KeyId = std::array<uint8_t, kKeyIdBytes>;

struct TrustedKey {
  PublicKey point;
  KeyId id;
};

KeyId key_id_of(const PublicKey& point);
TrustedKey make_trusted_key(const PublicKey& point);

// nullptr when no trusted key has this id.
const TrustedKey* find_key(std::span<const TrustedKey> keys, std::span<const uint8_t> key_id);

}  // namespace tinyedge::ota
