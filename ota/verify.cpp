#include "ota/verify.h"

#include "ota/signature.h"

namespace tinyedge::ota {

Reason verify_manifest(std::span<const TrustedKey> keys, std::span<const uint8_t> manifest_bytes,
                       std::span<const uint8_t> signature, Manifest& out) {
  if (decode_manifest(manifest_bytes, out) != Reason::kOk) return Reason::kBadManifest;
  const TrustedKey* key = find_key(keys, std::span(out.key_id.bytes, out.key_id.size));
  if (key == nullptr) return Reason::kUnknownKey;
  if (!verify_signature(*key, sha256(manifest_bytes), signature)) return Reason::kBadSignature;
  return check_manifest(out);
}

Reason verify_rollback_grant(std::span<const TrustedKey> keys, std::span<const uint8_t> grant_bytes,
                             std::span<const uint8_t> signature, RollbackGrant& out) {
  if (decode_rollback_grant(grant_bytes, out) != Reason::kOk) return Reason::kBadManifest;
  const TrustedKey* key = find_key(keys, std::span(out.key_id.bytes, out.key_id.size));
  if (key == nullptr) return Reason::kUnknownKey;
  if (!verify_signature(*key, sha256(grant_bytes), signature)) return Reason::kBadSignature;
  return Reason::kOk;
}

}  // namespace tinyedge::ota
