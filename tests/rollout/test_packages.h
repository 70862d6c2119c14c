// Real signed packages for rollout tests, made with the OTA library's signing code.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ota/package.h"
#include "ota/signing_key.h"

namespace tinyedge::rollout::testing {

inline ota::Package make_package(const ota::SigningKey& key, uint32_t model_id, uint32_t version, size_t payload_size,
                                 std::vector<std::string> hardware = {}) {
  ota::PackageSpec spec;
  spec.model_id = model_id;
  spec.version = version;
  spec.model_name = "test-model";
  spec.payload.resize(payload_size);
  for (size_t i = 0; i < payload_size; ++i) spec.payload[i] = static_cast<uint8_t>(i * 31 + version);
  spec.hardware = std::move(hardware);
  spec.arena_bytes = 1024;
  spec.created_at = 1700000000;
  return ota::create_package(spec, key);
}

}  // namespace tinyedge::rollout::testing
