// Verification of what an UpdateOffer carries, in the order that never trusts an unsigned byte:
// decode → find the key by id → check the signature over SHA-256(manifest bytes) → semantic checks.
#pragma once
#include <cstdint>
#include <span>

#include "ota/keys.h"
#include "ota/manifest.h"
#include "ota/reason.h"

namespace tinyedge::ota {

// kBadManifest (not decodable / malformed), kUnknownKey, kBadSignature, or kOk with `out` filled.
Reason verify_manifest(std::span<const TrustedKey> keys, std::span<const uint8_t> manifest_bytes,
                       std::span<const uint8_t> signature, Manifest& out);

// Same rules for a RollbackGrant; the caller checks that it fits the manifest and the node's state.
Reason verify_rollback_grant(std::span<const TrustedKey> keys, std::span<const uint8_t> grant_bytes,
                             std::span<const uint8_t> signature, RollbackGrant& out);

}  // namespace tinyedge::ota
