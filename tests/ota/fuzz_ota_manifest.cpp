// libFuzzer: arbitrary bytes as a manifest (with a signature), a rollback grant, a .tep file and
// a compressed payload's wire blocks (the node's decoder, under ASan/UBSan).
// Whatever the input, every parser answers with a status or a PackageError, never a crash.
#include <cstddef>
#include <cstdint>

#include "ota/block_encoder.h"
#include "ota/package.h"
#include "ota/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tinyedge::ota::TrustedKey key = [] {
    tinyedge::ota::PublicKey point{};
    point[0] = 0x04;  // not on the curve: verification must fail cleanly past the lookup
    tinyedge::ota::TrustedKey k = tinyedge::ota::make_trusted_key(point);
    return k;
  }();
  const std::span<const uint8_t> bytes(data, size);
  const size_t split = size > 0 ? data[0] % (size + 1) : 0;
  static tinyedge::ota::Manifest manifest;
  (void)tinyedge::ota::verify_manifest(std::span(&key, 1), bytes.subspan(split), bytes.first(split), manifest);
  if (tinyedge::ota::decode_manifest(bytes, manifest) == tinyedge::ota::Reason::kOk)
    (void)tinyedge::ota::check_manifest(manifest);
  tinyedge::ota::RollbackGrant grant;
  (void)tinyedge::ota::verify_rollback_grant(std::span(&key, 1), bytes, bytes, grant);
  try {
    (void)tinyedge::ota::parse_package(bytes);
  } catch (const tinyedge::ota::PackageError&) {
  }
  try {
    const uint32_t payload_size = size > 2 ? (static_cast<uint32_t>(data[1]) << 8 | data[2]) + 1 : 1;
    (void)tinyedge::ota::decode_lz_blocks(bytes, 128, payload_size);
  } catch (const tinyedge::ota::PackageError&) {
  }
  return 0;
}
