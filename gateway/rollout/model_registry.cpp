#include "gateway/rollout/model_registry.h"

#include <algorithm>

#include "ota/reason.h"
#include "ota/sha256.h"
#include "ota/signing_key.h"
#include "ota/verify.h"

namespace tinyedge::rollout {

ModelRegistry::ModelRegistry(RolloutStore& store, std::vector<ota::TrustedKey> fleet_keys)
    : store_(store), keys_(std::move(fleet_keys)) {
  if (keys_.empty()) throw RegistryError("model registry: no fleet public key configured");
}

ota::Manifest ModelRegistry::verify(const ota::Package& package) const {
  ota::Manifest manifest{};
  ota::Reason reason = ota::verify_manifest(keys_, package.manifest, package.signature, manifest);
  if (reason == ota::Reason::kUnknownKey) {
    throw RegistryError("package is signed by a key this fleet does not trust (" + std::string(ota::to_string(reason)) +
                        ")");
  }
  if (reason != ota::Reason::kOk) {
    throw RegistryError(std::string("package does not verify against the fleet key: ") + ota::to_string(reason));
  }
  if (package.payload.size() != manifest.payload_size) {
    throw RegistryError("payload is " + std::to_string(package.payload.size()) + " bytes, the manifest says " +
                        std::to_string(manifest.payload_size));
  }
  ota::Digest digest = ota::sha256(package.payload);
  if (manifest.payload_sha256.size != digest.size() ||
      !std::equal(digest.begin(), digest.end(), manifest.payload_sha256.bytes)) {
    throw RegistryError("payload does not match the SHA-256 in the signed manifest");
  }
  return manifest;
}

ModelRow ModelRegistry::add(std::span<const uint8_t> bytes, TimeMs now) {
  ota::Package package;
  try {
    package = ota::parse_package(bytes);
  } catch (const ota::PackageError& e) {
    throw RegistryError(std::string("not a valid package: ") + e.what());
  }
  ota::Manifest manifest = verify(package);
  ModelRow row;
  row.model_id = manifest.model_id;
  row.version = manifest.version;
  row.name = manifest.model_name;
  row.payload_size = manifest.payload_size;
  row.payload_sha256 = ota::hex(std::span<const uint8_t>(manifest.payload_sha256.bytes, manifest.payload_sha256.size));
  row.key_id = ota::hex(std::span<const uint8_t>(manifest.key_id.bytes, manifest.key_id.size));
  for (pb_size_t i = 0; i < manifest.hardware_count; ++i) row.hardware.emplace_back(manifest.hardware[i]);
  row.created_at = manifest.created_at;
  row.uploaded_ms = now;
  try {
    row.id = store_.insert_model(row, std::vector<uint8_t>(bytes.begin(), bytes.end()));
  } catch (const StoreError& e) {
    throw RegistryError(e.what());
  }
  return row;
}

ota::Package ModelRegistry::package(int64_t id) {
  try {
    return ota::parse_package(store_.package_bytes(id));
  } catch (const StoreError& e) {
    throw RegistryError(e.what());
  } catch (const ota::PackageError& e) {
    throw RegistryError("stored package " + std::to_string(id) + " is damaged: " + e.what());
  }
}

}  // namespace tinyedge::rollout
