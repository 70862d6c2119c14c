// The gateway's model registry: signed packages uploaded by operators, accepted only if their
// signature verifies against the fleet's public key(s) and the payload matches the manifest
// (size, SHA-256, and the model id and version in its .tem header): ota::verify_package.
// A delta package (PAYLOAD_LZ_DELTA) is kept beside the full package of its target version, one per
// base model, and checked against that base (a registered package). A rejected upload changes nothing.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateway/rollout/rollout_store.h"
#include "ota/keys.h"
#include "ota/package.h"

namespace tinyedge::rollout {

class RegistryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ModelRegistry {
 public:
  // Throws RegistryError if no fleet key is given: an unverifiable registry is no registry.
  ModelRegistry(RolloutStore& store, std::vector<ota::TrustedKey> fleet_keys);

  // Verifies and stores a .tep; throws RegistryError naming the problem (bad structure, unknown
  // key, bad signature, payload hash, model mismatch, already registered). A delta needs the full
  // package of its target version registered first (same model, version and installed SHA-256)
  // and is verified by the same ota::verify_package, against its base: the registered package
  // whose installed bytes the delta names (an encrypted delta, whose payload the gateway cannot
  // read, as any encrypted package: signature, manifest rules, wire size). Returns the target's
  // row with its deltas.
  ModelRow add(std::span<const uint8_t> package_bytes, TimeMs now);
  std::vector<ModelRow> list();  // with each entry's deltas
  ota::Package package(int64_t id);
  ota::Package delta_package(int64_t delta_id);
  // The delta of registry entry `model_ref` made against the installed model `base_sha256` (hex).
  std::optional<DeltaRow> delta_for(int64_t model_ref, const std::string& base_sha256);

  // True if packages signed by `key_id` would verify here.
  bool trusts(const ota::KeyId& key_id) const { return ota::find_key(keys_, key_id) != nullptr; }

  // Same checks as add(), without storing: the decoded manifest of a valid package.
  ota::Manifest verify(const ota::Package& package) const;

 private:
  ModelRow add_delta(std::span<const uint8_t> bytes, const ota::Package& package, TimeMs now);

  RolloutStore& store_;
  std::vector<ota::TrustedKey> keys_;
};

}  // namespace tinyedge::rollout
