// Encrypted payloads, the node's side (freestanding, no heap): the manifest carries a per-package
// AES-128 content key wrapped for the fleet's encryption key with ECIES on P-256, and the wire bytes
// are AES-128-CTR under that content key.
//
// Why CTR and not GCM: the node fetches, decodes and journals wire blocks in any order and resumes
// after a power cut, so it must decrypt any block on its own (CTR seeks: the counter is the block's
// wire offset / 16); a GCM tag covers the whole stream in order and would need all of it before any
// byte is trusted. Integrity is already the signed manifest's job: the SHA-256 over the installed
// plaintext (and the decoder's checks for an encoded payload) refuse any changed wire bit, and the
// wrapped key sits in the signed manifest, so it cannot be swapped either.
//
// Key wrap (ECIES): the packer makes a one-time P-256 key pair, ECDH with the fleet encryption
// public key gives the shared X coordinate, HKDF-SHA256 (RFC 5869; no salt, info = kWrapInfo ||
// ephemeral point || encryption key id) expands it to a 16-byte key-encryption key and a 32-byte
// MAC key; wrapped_key = AES-128-CTR(KEK, counter 0)(content key) || HMAC-SHA256(MAC key, those 16
// bytes). The node opens it only after the tag matches, so a wrong private key is told apart from
// a garbled payload before anything is fetched.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ota/keys.h"
#include "ota/manifest.h"
#include "ota/reason.h"

namespace tinyedge::ota {

inline constexpr size_t kContentKeyBytes = 16;
inline constexpr size_t kPrivateScalarBytes = 32;
inline constexpr size_t kSharedSecretBytes = 32;
inline constexpr size_t kWrapTagBytes = 32;
inline constexpr size_t kWrappedKeyBytes = kContentKeyBytes + kWrapTagBytes;
inline constexpr size_t kCipherBlockBytes = 16;

using ContentKey = std::array<uint8_t, kContentKeyBytes>;
using SharedSecret = std::array<uint8_t, kSharedSecretBytes>;

// The fleet's encryption private key as a node holds it: the P-256 scalar, and the id of its
// public point (key_id_of), which the manifest names.
struct DecryptionKey {
  std::array<uint8_t, kPrivateScalarBytes> scalar{};
  KeyId id{};
};

// The two keys HKDF derives from the shared secret.
struct WrapKeys {
  std::array<uint8_t, kContentKeyBytes> kek{};
  std::array<uint8_t, kWrapTagBytes> mac{};
};

// All three encryption fields empty: plain; check_manifest refuses anything between.
inline bool is_encrypted(const Manifest& manifest) { return manifest.encryption_key_id.size != 0; }

// X coordinate of scalar * peer on P-256; false when the point is not on the curve or the scalar
// is not a valid private key. Blinded by a generator seeded from the scalar and the peer point
// (the node has no entropy source; what blinding needs is unpredictability to an observer).
[[nodiscard]] bool ecdh_p256(std::span<const uint8_t, kPrivateScalarBytes> scalar, std::span<const uint8_t> peer,
                             SharedSecret& shared);

WrapKeys derive_wrap_keys(const SharedSecret& shared, std::span<const uint8_t> ephemeral_public,
                          std::span<const uint8_t> encryption_key_id);

// XORs `bytes` with the AES-128-CTR key stream at `offset` (a multiple of kCipherBlockBytes):
// encrypts and decrypts alike.
void ctr_xor(std::span<const uint8_t, kContentKeyBytes> key, uint32_t offset, std::span<uint8_t> bytes);

// Opens the manifest's wrapped content key with `key` (nullptr: the node holds none).
// kNotForThisKey when the key ids differ or the tag does not match; kBadManifest for fields of
// the wrong size (check_manifest refuses those first).
[[nodiscard]] Reason unwrap_content_key(const DecryptionKey* key, const Manifest& manifest, ContentKey& out);

}  // namespace tinyedge::ota
