// Any bytes as an Uplink: decoding never overruns, and whatever decodes re-encodes within the
// declared maximum size and decodes again to the same message bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "protocol/codec.h"

using namespace tinyedge::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tinyedge_v1_Uplink message;
  static tinyedge_v1_Uplink again;
  static uint8_t wire[kMaxUplinkBytes];
  static uint8_t wire_again[kMaxUplinkBytes];
  if (!decode_uplink({data, size}, message).ok) return 0;
  const auto first = encode_uplink(message, wire);
  if (!first.ok) std::abort();
  if (!decode_uplink({wire, first.size}, again).ok) std::abort();
  const auto second = encode_uplink(again, wire_again);
  if (!second.ok || second.size != first.size || std::memcmp(wire, wire_again, first.size) != 0) std::abort();
  return 0;
}
