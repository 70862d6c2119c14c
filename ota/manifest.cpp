#include "ota/manifest.h"

#include <cstring>
#include <type_traits>

#include "ota/block_codec.h"
#include "ota/keys.h"
#include "ota/payload_cipher.h"
#include "ota/sha256.h"
#include "protocol/codec.h"

namespace tinyedge::ota {

Reason decode_manifest(std::span<const uint8_t> bytes, Manifest& out) {
  if (bytes.empty() || bytes.size() > kMaxManifestBytes) return Reason::kBadManifest;
  const auto result = protocol::decode_message(tinyedge_v1_Manifest_fields, bytes, &out);
  return result.ok ? Reason::kOk : Reason::kBadManifest;
}

Reason check_manifest(const Manifest& manifest) {
  if (manifest.format != kManifestFormat) return Reason::kBadManifest;
  if (manifest.payload_size == 0) return Reason::kBadManifest;
  if (manifest.payload_sha256.size != kDigestBytes) return Reason::kBadManifest;
  if (manifest.key_id.size != kKeyIdBytes) return Reason::kBadManifest;
  // The self-test is optional, but an expected output needs an input and vice versa.
  const bool has_output = manifest.self_test_output_sha256.size != 0;
  if (has_output && manifest.self_test_output_sha256.size != kDigestBytes) return Reason::kBadManifest;
  if (has_output != (manifest.self_test_input.size != 0)) return Reason::kBadManifest;
  // The field has the enum's type but holds whatever value was signed: read its bits as an integer
  // (loading a value outside the enum is undefined behaviour) until it is known to be one of ours.
  std::underlying_type_t<tinyedge_v1_PayloadEncoding> encoding = 0;
  std::memcpy(&encoding, &manifest.encoding, sizeof encoding);
  // Only a delta names a base; a base hash of another size could never match one.
  const bool delta = encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA;
  if (manifest.base_sha256.size != (delta ? kDigestBytes : 0)) return Reason::kBadManifest;
  // Encrypted: all three wrap fields at their sizes; plain: none of them.
  const bool encrypted = manifest.encryption_key_id.size != 0;
  if (manifest.encryption_key_id.size != (encrypted ? kKeyIdBytes : 0) ||
      manifest.ephemeral_public.size != (encrypted ? kPublicKeyBytes : 0) ||
      manifest.wrapped_key.size != (encrypted ? kWrappedKeyBytes : 0))
    return Reason::kBadManifest;
  switch (encoding) {
    case tinyedge_v1_PayloadEncoding_PAYLOAD_PLAIN:
      return manifest.wire_size == 0 && manifest.wire_block_bytes == 0 ? Reason::kOk : Reason::kBadManifest;
    case tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_BLOCKS:
    case tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA: {
      const uint32_t block = manifest.wire_block_bytes;
      if (manifest.wire_size == 0 || block < kMinWireBlockBytes || block > 512 || (block & (block - 1)) != 0)
        return Reason::kBadManifest;
      return Reason::kOk;
    }
  }
  return Reason::kBadEncoding;
}

Reason decode_rollback_grant(std::span<const uint8_t> bytes, RollbackGrant& out) {
  if (bytes.empty() || bytes.size() > kMaxRollbackGrantBytes) return Reason::kBadManifest;
  const auto result = protocol::decode_message(tinyedge_v1_RollbackGrant_fields, bytes, &out);
  if (!result.ok) return Reason::kBadManifest;
  if (out.to_payload_sha256.size != kDigestBytes || out.key_id.size != kKeyIdBytes) return Reason::kBadManifest;
  return Reason::kOk;
}

}  // namespace tinyedge::ota
