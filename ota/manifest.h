// The signed manifest (protocol/tinyedge.proto: Manifest) and the structural rules every
// manifest must meet before any field is trusted.
#pragma once
#include <cstdint>
#include <span>

#include "ota/reason.h"
#include "tinyedge.pb.h"

namespace tinyedge::ota {

using Manifest = tinyedge_v1_Manifest;
using RollbackGrant = tinyedge_v1_RollbackGrant;

inline constexpr uint32_t kManifestFormat = 1;
inline constexpr size_t kMaxManifestBytes = tinyedge_v1_Manifest_size;
inline constexpr size_t kMaxRollbackGrantBytes = tinyedge_v1_RollbackGrant_size;

// Decodes only (no semantic checks): kBadManifest if the bytes are not a Manifest.
Reason decode_manifest(std::span<const uint8_t> bytes, Manifest& out);

// Semantic checks on a decoded manifest: format, digest sizes, key id size, payload size, and
// the payload encoding's fields (kBadEncoding: an encoding this code does not know).
Reason check_manifest(const Manifest& manifest);

// Bytes the payload takes on the wire (what chunks carry): the installed size unless encoded.
inline uint32_t wire_size_of(const Manifest& manifest) {
  return manifest.encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_PLAIN ? manifest.payload_size : manifest.wire_size;
}

Reason decode_rollback_grant(std::span<const uint8_t> bytes, RollbackGrant& out);

}  // namespace tinyedge::ota
