// A serial/BLE-bridge link's proof of identity: the node holds a 32-byte link key provisioned at
// manufacture (the gateway holds a copy per node), the gateway sends a fresh nonce when the link
// opens, and the node answers
//   HMAC-SHA256(link_key, "tinyedge-link-proof-v1" 0x00 || len(nonce) || nonce
//                         || len(node_id) || node_id || boot_id as 4 bytes little-endian)
// (lengths as one byte). The label keeps the key's MACs apart from anything else it might ever
// sign; the lengths make the encoding unambiguous. It lives here, beside the other crypto both
// the node and the gateway link, so that one function defines the layout for both sides.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ota/sha256.h"

namespace tinyedge::ota {

inline constexpr size_t kLinkKeyBytes = 32;
inline constexpr size_t kLinkNonceBytes = 16;
inline constexpr size_t kLinkProofBytes = 32;
using LinkKey = std::array<uint8_t, kLinkKeyBytes>;

// False if the nonce or the node id is longer than 255 bytes (then `out` is untouched).
[[nodiscard]] bool link_proof(std::span<const uint8_t, kLinkKeyBytes> key, std::span<const uint8_t> nonce,
                              std::string_view node_id, uint32_t boot_id, std::span<uint8_t, kLinkProofBytes> out);

// Recomputes the proof and compares in constant time; false for a MAC of any other length.
[[nodiscard]] bool link_proof_valid(std::span<const uint8_t, kLinkKeyBytes> key, std::span<const uint8_t> nonce,
                                    std::string_view node_id, uint32_t boot_id, std::span<const uint8_t> mac);

// A link key as stored in files (`tinyedge keys link`, the gateway's link_keys directory, the
// firmware build): 64 hex digits, surrounding whitespace ignored. False on anything else.
[[nodiscard]] bool parse_link_key(std::string_view text, LinkKey& out);

}  // namespace tinyedge::ota
