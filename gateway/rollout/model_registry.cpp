#include "gateway/rollout/model_registry.h"

#include "ota/package_verify.h"

namespace tinyedge::rollout {

ModelRegistry::ModelRegistry(RolloutStore& store, std::vector<ota::TrustedKey> fleet_keys)
    : store_(store), keys_(std::move(fleet_keys)) {
  if (keys_.empty()) throw RegistryError("model registry: no fleet public key configured");
}

ota::Manifest ModelRegistry::verify(const ota::Package& package) const {
  // The same verification `tinyedge package verify` runs, including the payload's model identity.
  ota::PackageVerdict verdict = ota::verify_package(package, keys_);
  if (!verdict.ok()) throw RegistryError("package " + verdict.detail);
  return verdict.manifest;
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
