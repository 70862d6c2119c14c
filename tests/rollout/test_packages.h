// Real signed packages for rollout tests, made with the OTA library's signing code.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ota/package.h"
#include "ota/payload_identity.h"
#include "ota/signing_key.h"
#include "protocol/codec.h"

namespace tinyedge::rollout::testing {

// Writes a .tem header's identity (magic, model id, version) over the first bytes of a synthetic
// payload: every package's payload must name the model its manifest does.
inline void stamp_tem_identity(std::vector<uint8_t>& payload, uint32_t model_id, uint32_t version) {
  if (payload.size() < ota::kPayloadIdentityBytes) payload.resize(ota::kPayloadIdentityBytes);
  auto put = [&payload](size_t at, uint32_t value) {
    for (int i = 0; i < 4; ++i) payload[at + i] = static_cast<uint8_t>(value >> (8 * i));
  };
  put(ota::kTemMagicOffset, ota::kTemMagic);
  put(ota::kTemModelIdOffset, model_id);
  put(ota::kTemVersionOffset, version);
}

inline ota::Package make_package(const ota::SigningKey& key, uint32_t model_id, uint32_t version, size_t payload_size,
                                 std::vector<std::string> hardware = {}) {
  ota::PackageSpec spec;
  spec.model_id = model_id;
  spec.version = version;
  spec.model_name = "test-model";
  spec.payload.resize(payload_size);
  for (size_t i = 0; i < payload_size; ++i) spec.payload[i] = static_cast<uint8_t>(i * 31 + version);
  stamp_tem_identity(spec.payload, model_id, version);
  spec.hardware = std::move(hardware);
  spec.arena_bytes = 1024;
  spec.created_at = 1700000000;
  return ota::create_package(spec, key);
}

// What a careless or hostile signer can make and create_package refuses to: `package` with its
// manifest changed by `edit` and signed again by `key` (the payload is left as it is).
inline ota::Package resign_manifest(const ota::Package& package, const ota::SigningKey& key,
                                    const std::function<void(ota::Manifest&)>& edit) {
  ota::Manifest manifest = ota::manifest_of(package);
  edit(manifest);
  ota::Package out = package;
  out.manifest.resize(ota::kMaxManifestBytes);
  const auto encoded = protocol::encode_message(tinyedge_v1_Manifest_fields, &manifest, out.manifest);
  if (!encoded.ok) throw ota::PackageError(std::string("cannot encode manifest: ") + encoded.error);
  out.manifest.resize(encoded.size);
  out.signature = key.sign(ota::sha256(out.manifest));
  return out;
}

}  // namespace tinyedge::rollout::testing
