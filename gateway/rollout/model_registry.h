// The gateway's model registry: signed packages uploaded by operators, accepted only if their
// signature verifies against the fleet's public key(s) and the payload matches the manifest
// (size, SHA-256, and the model id and version in its .tem header): ota::verify_package.
// A rejected upload changes nothing.
#pragma once
#include <cstdint>
#include <span>
#include <stdexcept>
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
  // key, bad signature, payload hash, model mismatch, already registered).
  ModelRow add(std::span<const uint8_t> package_bytes, TimeMs now);
  std::vector<ModelRow> list() { return store_.models(); }
  ota::Package package(int64_t id);

  // True if packages signed by `key_id` would verify here.
  bool trusts(const ota::KeyId& key_id) const { return ota::find_key(keys_, key_id) != nullptr; }

  // Same checks as add(), without storing: the decoded manifest of a valid package.
  ota::Manifest verify(const ota::Package& package) const;

 private:
  RolloutStore& store_;
  std::vector<ota::TrustedKey> keys_;
};

}  // namespace tinyedge::rollout
