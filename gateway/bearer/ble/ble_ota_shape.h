// How OTA chunks are cut and paced over one BLE connection, from its negotiated ATT MTU.
//
// A Chunk downlink leaves as one frame cut into write-without-response values of ATT_MTU-3 bytes.
// Over LE the link layer retransmits until a packet gets through, so a chunk is lost only with
// its connection; what the size and window bound is what a drop costs and what waits in
// bluetoothd's queue. The chunk is the largest power of two (the node's block grid) from the
// node's smallest block to what a Chunk can carry whose frame fits kMaxWritesPerChunk values: 128
// bytes at ATT MTU 23, 512 from ATT MTU 79 up. The window, in chunks, keeps about kWindowWrites
// values in flight: enough to fill the connection events while the node's next ChunkRequest (its
// ack) comes back, and never more than the node can track.
#pragma once
#include <cstddef>
#include <cstdint>

#include "gateway/core/downlink_sink.h"

namespace tinyedge::gateway::ble {

inline constexpr size_t kMaxWritesPerChunk = 8;
inline constexpr size_t kWindowWrites = 16;
inline constexpr uint32_t kMinChunkBytes = 128;  // the node's smallest OTA block (SlotStore::kMinBlockBytes)
inline constexpr uint32_t kMinWindow = 2;
inline constexpr uint32_t kMaxWindow = 8;  // requests a node tracks at once (OtaClient::kMaxWindow)

// ATT_MTU minus the 3-byte ATT header, within what BLE allows (20..244).
size_t value_mtu_of(size_t att_mtu);
// Bytes on the wire for a Chunk downlink carrying `data_bytes`, framed (worst case: every varint
// at its longest, COBS overhead, CRC and delimiter).
size_t chunk_frame_bytes(uint32_t data_bytes);
// Write-without-response values one chunk of `data_bytes` takes at `att_mtu`.
size_t writes_per_chunk(uint32_t data_bytes, size_t att_mtu);
BulkShape ota_shape_for_mtu(size_t att_mtu);

}  // namespace tinyedge::gateway::ble
