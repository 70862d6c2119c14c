// ECDSA P-256 verification of a SHA-256 digest against a trusted key (DER signature, as on the wire).
#pragma once
#include <cstdint>
#include <span>

#include "ota/keys.h"
#include "ota/sha256.h"

namespace tinyedge::ota {

inline constexpr size_t kMaxSignatureBytes = 72;  // DER of two 32-byte integers, worst case

// True only for a well-formed DER signature that verifies. A malformed key also gives false.
bool verify_signature(const TrustedKey& key, const Digest& digest, std::span<const uint8_t> der_signature);

}  // namespace tinyedge::ota
