#include "ota/package_verify.h"

#include "ota/payload_identity.h"
#include "ota/sha256.h"
#include "ota/verify.h"

namespace tinyedge::ota {
namespace {

PackageVerdict refused(PackageVerdict verdict, Reason reason, std::string detail) {
  verdict.reason = reason;
  verdict.detail = std::move(detail);
  verdict.key = nullptr;
  return verdict;
}

std::string model_and_version(uint32_t model_id, uint32_t version) {
  return "model " + std::to_string(model_id) + " v" + std::to_string(version);
}

}  // namespace

PackageVerdict verify_package(const Package& package, std::span<const TrustedKey> keys, std::span<const uint8_t> base,
                              const DecryptionKey* decryption) {
  PackageVerdict verdict;
  const Reason signed_ok = verify_manifest(keys, package.manifest, package.signature, verdict.manifest);
  if (signed_ok == Reason::kUnknownKey)
    return refused(verdict, signed_ok, "signed by a key this fleet does not trust (unknown signing key)");
  if (signed_ok == Reason::kBadEncoding)
    return refused(verdict, signed_ok,
                   "payload encoding " + std::to_string(verdict.manifest.encoding) + " is not one this tool knows");
  if (signed_ok != Reason::kOk)
    return refused(verdict, signed_ok, std::string("does not verify against the fleet key: ") + to_string(signed_ok));
  const Manifest& manifest = verdict.manifest;
  if (package.payload.size() != wire_size_of(manifest))
    return refused(verdict, Reason::kBadManifest,
                   "payload is " + std::to_string(package.payload.size()) + " bytes, the manifest says " +
                       std::to_string(wire_size_of(manifest)));
  if (is_encrypted(manifest)) {
    if (decryption == nullptr) {
      verdict.payload_checked = false;
      verdict.key = find_key(keys, std::span(manifest.key_id.bytes, manifest.key_id.size));
      return verdict;
    }
    ContentKey content{};
    if (unwrap_content_key(decryption, manifest, content) != Reason::kOk)
      return refused(verdict, Reason::kNotForThisKey,
                     "encrypted for key " +
                         hex(std::span(manifest.encryption_key_id.bytes, manifest.encryption_key_id.size)) +
                         ": the decryption key given (" + hex(decryption->id) + ") does not open it");
  }
  if (manifest.encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA) {
    if (base.empty())
      return refused(verdict, Reason::kBaseMismatch,
                     "a delta package: checking its payload needs its base model (package verify --base)");
    if (!digest_equal(sha256(base), std::span(manifest.base_sha256.bytes, manifest.base_sha256.size)))
      return refused(verdict, Reason::kBaseMismatch,
                     "the base given is not this delta's base model (its SHA-256 differs from the signed one)");
  }
  std::vector<uint8_t> installed;
  try {
    installed = installed_payload(package, base, decryption);
  } catch (const PackageError& e) {
    return refused(verdict, Reason::kBadEncoding, e.what());
  }
  if (!digest_equal(sha256(installed), std::span(manifest.payload_sha256.bytes, manifest.payload_sha256.size)))
    return refused(verdict, Reason::kHashMismatch,
                   manifest.encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_PLAIN
                       ? "payload SHA-256 mismatch: the payload is not what the signed manifest names"
                       : "payload SHA-256 mismatch: the decoded payload is not what the signed manifest names");
  PayloadIdentity payload;
  const Reason identity = check_payload_identity(installed, manifest, payload);
  if (identity == Reason::kBadModel) return refused(verdict, identity, "payload is not a .tem model (no TEM1 header)");
  if (identity != Reason::kOk)
    return refused(verdict, identity,
                   "model mismatch: the manifest says " + model_and_version(manifest.model_id, manifest.version) +
                       " but the payload's .tem header says " + model_and_version(payload.model_id, payload.version));
  verdict.key = find_key(keys, std::span(manifest.key_id.bytes, manifest.key_id.size));
  return verdict;
}

}  // namespace tinyedge::ota
