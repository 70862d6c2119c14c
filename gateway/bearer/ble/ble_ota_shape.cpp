#include "gateway/bearer/ble/ble_ota_shape.h"

#include <algorithm>
#include <cstdint>

#include "protocol/ble_gatt.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace tinyedge::gateway::ble {

namespace {
constexpr uint32_t kMaxChunkBytes = sizeof(tinyedge_v1_Chunk{}.data.bytes);
}  // namespace

size_t value_mtu_of(size_t att_mtu) {
  const size_t value = att_mtu > 3 ? att_mtu - 3 : 0;
  return std::clamp(value, protocol::ble::kMinValueMtu, protocol::ble::kMaxValueMtu);
}

size_t chunk_frame_bytes(uint32_t data_bytes) {
  tinyedge_v1_Downlink down = tinyedge_v1_Downlink_init_zero;
  down.seq = UINT32_MAX;
  down.which_payload = tinyedge_v1_Downlink_chunk_tag;
  down.payload.chunk.model_id = UINT32_MAX;
  down.payload.chunk.version = UINT32_MAX;
  down.payload.chunk.offset = UINT32_MAX;
  down.payload.chunk.data.size = static_cast<pb_size_t>(std::min<uint32_t>(data_bytes, kMaxChunkBytes));
  uint8_t wire[protocol::kMaxDownlinkBytes];
  const auto encoded = protocol::encode_downlink(down, wire);
  return protocol::max_encoded_frame_size(encoded.ok ? encoded.size : sizeof wire);
}

size_t writes_per_chunk(uint32_t data_bytes, size_t att_mtu) {
  const size_t value = value_mtu_of(att_mtu);
  return (chunk_frame_bytes(data_bytes) + value - 1) / value;
}

BulkShape ota_shape_for_mtu(size_t att_mtu) {
  uint32_t chunk = kMaxChunkBytes;
  while (chunk > kMinChunkBytes && writes_per_chunk(chunk, att_mtu) > kMaxWritesPerChunk) chunk /= 2;
  const size_t writes = writes_per_chunk(chunk, att_mtu);
  const auto window = static_cast<uint32_t>(std::clamp<size_t>(kWindowWrites / writes, kMinWindow, kMaxWindow));
  return {chunk, window, window * writes};
}

}  // namespace tinyedge::gateway::ble
