// A shared class as the operator's `tinyedge enroll share` sends it (deploy/fleet/cmd_enroll.cpp):
// the class a node reported, with the share's sequence, the signing key's id and the node it came
// from, encoded, and signed over those exact bytes with the fleet's package key.
#pragma once
#include <pb_encode.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <span>
#include <vector>

#include "ota/sha256.h"
#include "ota/signing_key.h"
#include "tinyedge.pb.h"

namespace tinyedge::speech_test {

inline tinyedge_v1_EnrollShare signed_share(tinyedge_v1_SharedClass shared, uint64_t sequence,
                                            const ota::SigningKey& key, const char* source_node = "host-1") {
  shared.sequence = sequence;
  const ota::KeyId id = key.key_id();
  std::copy(id.begin(), id.end(), shared.key_id.bytes);
  shared.key_id.size = static_cast<pb_size_t>(id.size());
  std::snprintf(shared.source_node, sizeof shared.source_node, "%s", source_node);
  tinyedge_v1_EnrollShare share = tinyedge_v1_EnrollShare_init_zero;
  pb_ostream_t out = pb_ostream_from_buffer(share.shared_class.bytes, sizeof share.shared_class.bytes);
  if (!pb_encode(&out, tinyedge_v1_SharedClass_fields, &shared)) return share;  // empty: refused as unsigned
  share.shared_class.size = static_cast<pb_size_t>(out.bytes_written);
  const std::vector<uint8_t> signature =
      key.sign(ota::sha256(std::span<const uint8_t>(share.shared_class.bytes, share.shared_class.size)));
  std::copy(signature.begin(), signature.end(), share.signature.bytes);
  share.signature.size = static_cast<pb_size_t>(signature.size());
  return share;
}

}  // namespace tinyedge::speech_test
