// The gateway's model registry: signed packages uploaded by operators, accepted only if their
// signature verifies against the fleet's public key(s) and the payload matches the manifest.
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
  // key, bad signature, payload hash, already registered).
  ModelRow add(std::span<const uint8_t> package_bytes, TimeMs now);
  std::vector<ModelRow> list() { return store_.models(); }
  ota::Package package(int64_t id);

  // Same checks as add(), without storing: the decoded manifest of a valid package.
  ota::Manifest verify(const ota::Package& package) const;

 private:
  RolloutStore& store_;
  std::vector<ota::TrustedKey> keys_;
};

}  // namespace tinyedge::rollout
