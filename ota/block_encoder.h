// Host side: makes and reads the PAYLOAD_LZ_BLOCKS and PAYLOAD_LZ_DELTA wire forms (ota/block_codec.h) of a payload.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace tinyedge::ota {

inline constexpr uint32_t kDefaultWireBlockBytes = 512;

// Greedy LZ77 per block (hash chains over the block's own output). block_bytes: a power of two in
// kMinWireBlockBytes..512 (what a Chunk carries). Throws PackageError.
std::vector<uint8_t> encode_lz_blocks(std::span<const uint8_t> payload, uint32_t block_bytes);

// The installed bytes, decoded as a node does (erased flash is 0xFF, programming clears bits);
// throws PackageError naming the first block that does not decode.
std::vector<uint8_t> decode_lz_blocks(std::span<const uint8_t> wire, uint32_t block_bytes, uint32_t payload_size);

// PAYLOAD_LZ_DELTA against `base` (the base model's installed bytes): the same greedy blocks with
// base copies as well. Throws PackageError.
std::vector<uint8_t> encode_delta_blocks(std::span<const uint8_t> payload, std::span<const uint8_t> base,
                                         uint32_t block_bytes);
std::vector<uint8_t> decode_delta_blocks(std::span<const uint8_t> wire, uint32_t block_bytes, uint32_t payload_size,
                                         std::span<const uint8_t> base);

}  // namespace tinyedge::ota
