// PAYLOAD_LZ_BLOCKS: the wire form of a compressed payload, and its decoder (freestanding, no heap).
//
// The wire is cut in blocks of the manifest's wire_block_bytes (the last one may be shorter). Each
// block decodes on its own, into a range of the installed payload that it names, so a node fetches,
// decodes and journals blocks in any order, exactly like plain blocks, and a power cut costs at most
// the blocks not yet marked. A block:
//
//   u32 out_start   (little-endian; a multiple of kOutputAlign)
//   u16 out_length  (bytes it produces; a multiple of kOutputAlign unless it ends the payload)
//   tokens until out_length bytes are produced, then zeros to the block's end (anything else there
//   is refused):
//     0x00..0x7F  literal run: the next (t + 1) bytes are output as they are
//     0x80..0xFF  match of (t & 0x7F) + 3 bytes, copied from `distance` bytes back in this block's
//                 own output (it may overlap what it produces: a run); distance follows as
//                 d0 < 0x80: d0 + 1, else ((d0 & 0x7F) << 8 | d1) + 1 (1..32768)
//
// The window is the block's own output, read back from the slot (flash is readable), so the
// decoder keeps only kStageBytes of output in RAM until they are programmed. Whether the decoded
// bytes are right is the payload SHA-256's job (checked over the installed bytes, as for plain
// packages); the decoder only refuses what it cannot place: a range outside the payload, a token
// past the block's end, a distance before the block's output.
//
// PAYLOAD_LZ_DELTA: the same blocks against a base model (the node's active slot, whose installed
// SHA-256 the signed manifest names), with a third token kind that copies from the base; literal
// runs are shorter to make room for it:
//     0x00..0x3F  literal run of (t + 1) bytes
//     0x40..0x7F  base copy: varint zigzag(base offset - output offset), so a model whose layout did
//                 not move costs one byte here; then the length: (t & 0x3F) + 4 when t & 0x3F < 0x3F,
//                 else varint + 67 (a copy may span the whole block's output)
//     0x80..0xFF  match in the block's own output, as above
// Varints are LEB128, at most 5 bytes, the value within 32 bits. The base is only read, so a power
// cut while a delta installs is no different from one during a compressed install.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "ota/reason.h"

namespace tinyedge::ota {

inline constexpr size_t kBlockHeaderBytes = 6;
inline constexpr size_t kOutputAlign = 16;  // every flash write unit the slot store accepts divides it
inline constexpr size_t kStageBytes = 64;   // a multiple of kOutputAlign
inline constexpr size_t kMinWireBlockBytes = 128;
inline constexpr size_t kMaxMatchBytes = 130;
inline constexpr size_t kMaxLiteralRun = 128;
inline constexpr size_t kMaxDistance = 32768;
inline constexpr size_t kMaxDeltaLiteralRun = 64;
inline constexpr size_t kMinBaseCopyBytes = 4;
inline constexpr size_t kBaseCopyShortLimit = 0x3F;  // (t & 0x3F) below it holds the length itself

// Where decoded bytes go: the inactive slot. `write` gets offsets that are multiples of
// kOutputAlign, each range once per decode; `read` returns bytes this decode wrote before.
class BlockSink {
 public:
  [[nodiscard]] virtual bool write(size_t offset, std::span<const uint8_t> bytes) = 0;
  [[nodiscard]] virtual bool read(size_t offset, std::span<uint8_t> out) const = 0;

 protected:
  ~BlockSink() = default;
};

struct BlockRange {
  uint32_t start = 0;
  uint32_t length = 0;
};

// Decodes one wire block of a payload of `payload_size` installed bytes into `sink`.
// kOk; kBadEncoding when the block is malformed; kFlashError when the sink refused a write or read.
[[nodiscard]] Reason decode_block(std::span<const uint8_t> block, uint32_t payload_size, BlockSink& sink,
                                  BlockRange& range);

// Decodes one PAYLOAD_LZ_DELTA block against `base` (the installed bytes of the base model; the
// caller checked its SHA-256 against the manifest). Same results as decode_block.
[[nodiscard]] Reason decode_delta_block(std::span<const uint8_t> block, uint32_t payload_size,
                                        std::span<const uint8_t> base, BlockSink& sink, BlockRange& range);

}  // namespace tinyedge::ota
