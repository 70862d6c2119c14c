#include "gateway/rollout/model_registry.h"

#include <algorithm>

#include "ota/package_verify.h"

namespace tinyedge::rollout {
namespace {

// A manifest's fixed-size bytes field (each has a nanopb type of its own) as hex.
template <typename Bytes>
std::string hex_of(const Bytes& bytes) {
  return ota::hex(std::span<const uint8_t>(bytes.bytes, bytes.size));
}

std::string model_and_version(uint32_t model_id, uint32_t version) {
  return "model " + std::to_string(model_id) + " v" + std::to_string(version);
}

}  // namespace

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
  try {
    if (ota::manifest_of(package).encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA)
      return add_delta(bytes, package, now);
  } catch (const ota::PackageError& e) {
    throw RegistryError(std::string("not a valid package: ") + e.what());
  }
  ota::Manifest manifest = verify(package);
  ModelRow row;
  row.model_id = manifest.model_id;
  row.version = manifest.version;
  row.name = manifest.model_name;
  row.payload_size = manifest.payload_size;
  row.payload_sha256 = hex_of(manifest.payload_sha256);
  row.key_id = hex_of(manifest.key_id);
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

ModelRow ModelRegistry::add_delta(std::span<const uint8_t> bytes, const ota::Package& package, TimeMs now) {
  // What the manifest claims is only used to find the target and the base; verify_package then
  // checks every claim against the signature and the payload, as for a full package.
  const ota::Manifest claimed = ota::manifest_of(package);
  const std::string target = model_and_version(claimed.model_id, claimed.version);
  std::optional<ModelRow> full;
  std::optional<ModelRow> base;
  std::vector<ModelRow> models;
  try {
    full = store_.model_by_version(claimed.model_id, claimed.version);
    models = store_.models();
  } catch (const StoreError& e) {
    throw RegistryError(e.what());
  }
  if (!full) {
    throw RegistryError("a delta package of " + target + ": upload the full package of " + target +
                        " first (the delta is offered beside it, the full package to nodes on other bases)");
  }
  const std::string base_sha = hex_of(claimed.base_sha256);
  for (const ModelRow& m : models) {
    if (m.model_id == claimed.model_id && m.payload_sha256 == base_sha) base = m;
  }
  std::vector<uint8_t> base_bytes;
  if (base) {
    try {
      base_bytes = ota::installed_payload(this->package(base->id));
    } catch (const ota::PackageError&) {
      // An encrypted base: the gateway cannot read it; an encrypted delta is checked without it.
    }
  }
  if (!ota::is_encrypted(claimed)) {
    if (!base) {
      throw RegistryError("a delta package of " + target + " against base " + base_sha.substr(0, 16) +
                          "..., which is not in the registry: upload the base model's full package first, so the "
                          "delta can be checked against it");
    }
    if (base_bytes.empty()) {
      throw RegistryError("a delta package of " + target + " against " +
                          model_and_version(base->model_id, base->version) +
                          ", whose registered package is encrypted: the gateway cannot read the base to check it");
    }
  }
  ota::PackageVerdict verdict = ota::verify_package(package, keys_, base_bytes);
  if (!verdict.ok()) throw RegistryError("package " + verdict.detail);
  const ota::Manifest& manifest = verdict.manifest;
  if (hex_of(manifest.payload_sha256) != full->payload_sha256) {
    throw RegistryError("a delta package of " + target +
                        " that installs other bytes than the registered full package of that version (payload "
                        "SHA-256 " +
                        hex_of(manifest.payload_sha256).substr(0, 16) + "... vs " + full->payload_sha256.substr(0, 16) +
                        "...): a node must end with the same model either way");
  }
  DeltaRow row;
  row.model_ref = full->id;
  row.base_sha256 = base_sha;
  row.base_ref = base ? base->id : 0;
  row.base_version = base ? base->version : 0;
  row.wire_size = ota::wire_size_of(manifest);
  row.uploaded_ms = now;
  try {
    row.id = store_.insert_delta(row, std::vector<uint8_t>(bytes.begin(), bytes.end()));
  } catch (const StoreError& e) {
    throw RegistryError(e.what());
  }
  full->deltas.push_back(row);
  for (const DeltaRow& d : store_.deltas()) {
    if (d.model_ref == full->id && d.id != row.id) full->deltas.push_back(d);
  }
  return *full;
}

std::vector<ModelRow> ModelRegistry::list() {
  std::vector<ModelRow> models = store_.models();
  const std::vector<DeltaRow> deltas = store_.deltas();
  for (ModelRow& m : models) {
    for (const DeltaRow& d : deltas)
      if (d.model_ref == m.id) m.deltas.push_back(d);
  }
  return models;
}

std::optional<DeltaRow> ModelRegistry::delta_for(int64_t model_ref, const std::string& base_sha256) {
  for (const DeltaRow& d : store_.deltas())
    if (d.model_ref == model_ref && d.base_sha256 == base_sha256) return d;
  return std::nullopt;
}

ota::Package ModelRegistry::delta_package(int64_t delta_id) {
  try {
    return ota::parse_package(store_.delta_package_bytes(delta_id));
  } catch (const StoreError& e) {
    throw RegistryError(e.what());
  } catch (const ota::PackageError& e) {
    throw RegistryError("stored delta " + std::to_string(delta_id) + " is damaged: " + e.what());
  }
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
