#include "ota/payload_identity.h"

namespace tinyedge::ota {
namespace {

uint32_t le32(std::span<const uint8_t> bytes, size_t at) {
  return static_cast<uint32_t>(bytes[at]) | static_cast<uint32_t>(bytes[at + 1]) << 8 |
         static_cast<uint32_t>(bytes[at + 2]) << 16 | static_cast<uint32_t>(bytes[at + 3]) << 24;
}

}  // namespace

Reason read_payload_identity(std::span<const uint8_t> head, PayloadIdentity& out) {
  if (head.size() < kPayloadIdentityBytes || le32(head, kTemMagicOffset) != kTemMagic) return Reason::kBadModel;
  out.model_id = le32(head, kTemModelIdOffset);
  out.version = le32(head, kTemVersionOffset);
  return Reason::kOk;
}

Reason check_payload_identity(std::span<const uint8_t> head, const Manifest& manifest, PayloadIdentity& found) {
  const Reason read = read_payload_identity(head, found);
  if (read != Reason::kOk) return read;
  if (found.model_id != manifest.model_id || found.version != manifest.version) return Reason::kModelMismatch;
  return Reason::kOk;
}

}  // namespace tinyedge::ota
