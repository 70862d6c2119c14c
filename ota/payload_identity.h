// Which model a package's payload says it is. The payload is a .tem model whose header carries
// its model id and version (node_firmware/runtime/tem_format.h: TemHeader). The signed manifest
// says the same two numbers; if they disagree, the gateway would list the node as one model
// while it runs and reports another, and the node would count anti-rollback for the wrong model.
//
// ota/ reads only these three header fields at their fixed offsets (no dependency on the
// runtime, which the gateway must not link); tests/ota pins the offsets to TemHeader's layout.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "ota/manifest.h"
#include "ota/reason.h"

namespace tinyedge::ota {

inline constexpr uint32_t kTemMagic = 0x314D4554;  // "TEM1", little-endian
inline constexpr size_t kTemMagicOffset = 0;
inline constexpr size_t kTemModelIdOffset = 12;
inline constexpr size_t kTemVersionOffset = 16;
// Bytes of a payload's head that identify it.
inline constexpr size_t kPayloadIdentityBytes = 20;

struct PayloadIdentity {
  uint32_t model_id = 0;
  uint32_t version = 0;
};

// kBadModel if `head` is shorter than kPayloadIdentityBytes or does not start with the .tem magic.
[[nodiscard]] Reason read_payload_identity(std::span<const uint8_t> head, PayloadIdentity& out);

// kOk when the payload's header names the manifest's model id and version; kBadModel when it is
// not a .tem; kModelMismatch otherwise (`found` then holds what the payload says).
[[nodiscard]] Reason check_payload_identity(std::span<const uint8_t> head, const Manifest& manifest,
                                            PayloadIdentity& found);

}  // namespace tinyedge::ota
