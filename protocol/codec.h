// Encode/decode of Uplink and Downlink with the nanopb-generated codec, as status values.
// The structs are large (every bounded field inline): callers keep them static or in a
// long-lived object, not on a small stack.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "tinyedge.pb.h"

namespace tinyedge::protocol {

struct CodecResult {
  bool ok;
  size_t size;          // bytes written (encode)
  const char* error;    // nanopb's message when !ok
};

CodecResult encode_uplink(const tinyedge_v1_Uplink& message, std::span<uint8_t> out);
CodecResult decode_uplink(std::span<const uint8_t> bytes, tinyedge_v1_Uplink& message);
CodecResult encode_downlink(const tinyedge_v1_Downlink& message, std::span<uint8_t> out);
CodecResult decode_downlink(std::span<const uint8_t> bytes, tinyedge_v1_Downlink& message);

// Any generated message, by its descriptor (manifests, rollback grants, sub-messages).
CodecResult encode_message(const pb_msgdesc_t* fields, const void* message, std::span<uint8_t> out);
CodecResult decode_message(const pb_msgdesc_t* fields, std::span<const uint8_t> bytes, void* message);

inline constexpr size_t kMaxUplinkBytes = tinyedge_v1_Uplink_size;
inline constexpr size_t kMaxDownlinkBytes = tinyedge_v1_Downlink_size;

}  // namespace tinyedge::protocol
