#include "ota/block_codec.h"

namespace tinyedge::ota {
namespace {

// The block's output in flight: bytes [flushed, produced) wait in `stage` until a whole stage
// (or the block's end) is programmed; older bytes of the window are read back from the sink.
class Output {
 public:
  Output(BlockSink& sink, uint32_t start, uint32_t end) : sink_(sink), start_(start), end_(end), flushed_(start) {}

  uint32_t produced() const { return flushed_ + fill_; }
  uint32_t room() const { return end_ - produced(); }

  [[nodiscard]] bool put(uint8_t byte) {
    stage_[fill_++] = byte;
    if (fill_ < kStageBytes) return true;
    return flush();
  }

  // Byte `distance` back from the next one to produce (1 = the last produced).
  [[nodiscard]] bool back(uint32_t distance, uint8_t& out) const {
    const uint32_t at = produced() - distance;
    if (at >= flushed_) {
      out = stage_[at - flushed_];
      return true;
    }
    return sink_.read(at, std::span(&out, 1));
  }

  uint32_t window() const { return produced() - start_; }

  [[nodiscard]] bool flush() {
    if (fill_ == 0) return true;
    if (!sink_.write(flushed_, std::span(stage_, fill_))) return false;
    flushed_ += fill_;
    fill_ = 0;
    return true;
  }

 private:
  BlockSink& sink_;
  uint32_t start_, end_, flushed_;
  uint32_t fill_ = 0;
  uint8_t stage_[kStageBytes] = {};
};

uint32_t u32_at(std::span<const uint8_t> bytes) {
  return static_cast<uint32_t>(bytes[0]) | static_cast<uint32_t>(bytes[1]) << 8 |
         static_cast<uint32_t>(bytes[2]) << 16 | static_cast<uint32_t>(bytes[3]) << 24;
}

// LEB128, at most 5 bytes and 32 bits; false when it runs past the block or overflows.
[[nodiscard]] bool varint_at(std::span<const uint8_t> block, size_t& at, uint32_t& value) {
  value = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (at >= block.size()) return false;
    const uint8_t byte = block[at++];
    if (shift == 28 && (byte & 0x70) != 0) return false;
    value |= static_cast<uint32_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// A base copy token's operands; kOk or kBadEncoding. `produced` is the output offset it starts at.
[[nodiscard]] Reason base_copy(std::span<const uint8_t> block, size_t& at, uint8_t token, uint32_t produced,
                               size_t base_size, uint32_t room, uint32_t& from, uint32_t& length) {
  uint32_t zigzag = 0;
  if (!varint_at(block, at, zigzag)) return Reason::kBadEncoding;
  const int64_t offset = static_cast<int64_t>(produced) + ((zigzag & 1u) != 0 ? -static_cast<int64_t>(zigzag >> 1) - 1
                                                                              : static_cast<int64_t>(zigzag >> 1));
  length = token & 0x3Fu;
  if (length < kBaseCopyShortLimit) {
    length += kMinBaseCopyBytes;
  } else {
    uint32_t extra = 0;
    if (!varint_at(block, at, extra) || extra > room) return Reason::kBadEncoding;
    length = extra + kBaseCopyShortLimit + kMinBaseCopyBytes;
  }
  if (offset < 0 || length > room || static_cast<uint64_t>(offset) + length > base_size) return Reason::kBadEncoding;
  from = static_cast<uint32_t>(offset);
  return Reason::kOk;
}

// `delta`: the block is PAYLOAD_LZ_DELTA against `base`.
Reason decode(std::span<const uint8_t> block, uint32_t payload_size, bool delta, std::span<const uint8_t> base,
              BlockSink& sink, BlockRange& range) {
  if (block.size() < kBlockHeaderBytes) return Reason::kBadEncoding;
  range.start = u32_at(block);
  range.length = static_cast<uint32_t>(block[4]) | static_cast<uint32_t>(block[5]) << 8;
  if (range.start % kOutputAlign != 0 || range.length == 0 || range.start >= payload_size ||
      range.length > payload_size - range.start)
    return Reason::kBadEncoding;
  const uint32_t end = range.start + range.length;
  // Only the payload's last block may end off the grid, so no two blocks share a write unit.
  if (end != payload_size && range.length % kOutputAlign != 0) return Reason::kBadEncoding;

  Output out(sink, range.start, end);
  size_t at = kBlockHeaderBytes;
  while (out.room() > 0) {
    if (at >= block.size()) return Reason::kBadEncoding;
    const uint8_t token = block[at++];
    if (delta && token >= 0x40 && token < 0x80) {
      uint32_t from = 0, length = 0;
      if (base_copy(block, at, token, out.produced(), base.size(), out.room(), from, length) != Reason::kOk)
        return Reason::kBadEncoding;
      for (uint32_t i = 0; i < length; ++i) {
        if (!out.put(base[from + i])) return Reason::kFlashError;
      }
      continue;
    }
    if (token < 0x80) {
      const uint32_t run = token + 1u;
      if (run > block.size() - at || run > out.room()) return Reason::kBadEncoding;
      for (uint32_t i = 0; i < run; ++i) {
        if (!out.put(block[at++])) return Reason::kFlashError;
      }
      continue;
    }
    const uint32_t length = (token & 0x7Fu) + 3u;
    if (at >= block.size()) return Reason::kBadEncoding;
    uint32_t distance = block[at++];
    if (distance >= 0x80) {
      if (at >= block.size()) return Reason::kBadEncoding;
      distance = ((distance & 0x7Fu) << 8 | block[at++]);
    }
    distance += 1;
    if (distance > out.window() || length > out.room()) return Reason::kBadEncoding;
    for (uint32_t i = 0; i < length; ++i) {
      uint8_t byte = 0;
      if (!out.back(distance, byte) || !out.put(byte)) return Reason::kFlashError;
    }
  }
  // Padding is zeros: then every changed wire byte either changes what is installed (and the digest
  // refuses it) or is refused here, and no block carries data the signature does not cover.
  for (; at < block.size(); ++at) {
    if (block[at] != 0) return Reason::kBadEncoding;
  }
  return out.flush() ? Reason::kOk : Reason::kFlashError;
}

}  // namespace

Reason decode_block(std::span<const uint8_t> block, uint32_t payload_size, BlockSink& sink, BlockRange& range) {
  return decode(block, payload_size, false, {}, sink, range);
}

Reason decode_delta_block(std::span<const uint8_t> block, uint32_t payload_size, std::span<const uint8_t> base,
                          BlockSink& sink, BlockRange& range) {
  return decode(block, payload_size, true, base, sink, range);
}

}  // namespace tinyedge::ota
