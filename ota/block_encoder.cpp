#include "ota/block_encoder.h"

#include <algorithm>
#include <string>

#include "ota/block_codec.h"
#include "ota/package.h"

namespace tinyedge::ota {
namespace {

// Output bytes one block may name (u16 length, kept on the alignment grid).
constexpr uint32_t kMaxBlockOutput = 65536 - kOutputAlign;
constexpr uint32_t kHashBits = 15;
constexpr int kMaxChainSteps = 96;

enum class Kind : uint8_t { kLiteral, kMatch, kBase };

struct Token {
  Kind kind = Kind::kLiteral;
  uint32_t at = 0;  // output offset of its first byte
  uint32_t length = 0;
  uint32_t distance = 0;  // kMatch
  uint32_t from = 0;      // kBase: base offset of its first byte
};

// What differs between the two block formats.
struct Format {
  std::span<const uint8_t> base;  // PAYLOAD_LZ_DELTA: the base model; empty for PAYLOAD_LZ_BLOCKS
  uint32_t max_literal = kMaxLiteralRun;
};

size_t distance_bytes(uint32_t distance) { return distance <= 0x80 ? 1 : 2; }

size_t varint_bytes(uint32_t value) {
  size_t n = 1;
  for (; value >= 0x80; value >>= 7) ++n;
  return n;
}

uint32_t zigzag(uint32_t from, uint32_t at) {
  const int64_t rel = static_cast<int64_t>(from) - static_cast<int64_t>(at);
  return rel >= 0 ? static_cast<uint32_t>(rel) << 1 : (static_cast<uint32_t>(-rel - 1) << 1) | 1u;
}

size_t cost(const Token& token, const Format& format) {
  switch (token.kind) {
    case Kind::kMatch:
      return 1 + distance_bytes(token.distance);
    case Kind::kBase: {
      const size_t length = token.length - kMinBaseCopyBytes;
      return 1 + varint_bytes(zigzag(token.from, token.at)) +
             (length < kBaseCopyShortLimit ? 0 : varint_bytes(static_cast<uint32_t>(length - kBaseCopyShortLimit)));
    }
    case Kind::kLiteral:
      break;
  }
  return token.length + (token.length + format.max_literal - 1) / format.max_literal;
}

size_t cost(const std::vector<Token>& tokens, const Format& format) {
  size_t total = 0;
  for (const Token& token : tokens) total += cost(token, format);
  return total;
}

// The tokens cut to produce exactly the output before `end`.
std::vector<Token> cut_at(const std::vector<Token>& tokens, uint32_t end) {
  std::vector<Token> out;
  for (Token token : tokens) {
    if (token.at >= end) break;
    if (token.at + token.length > end) {
      token.length = end - token.at;
      // Too short for a copy: literals.
      if ((token.kind == Kind::kMatch && token.length < 3) ||
          (token.kind == Kind::kBase && token.length < kMinBaseCopyBytes))
        token.kind = Kind::kLiteral;
    }
    if (!out.empty() && out.back().kind == Kind::kLiteral && token.kind == Kind::kLiteral) {
      out.back().length += token.length;
    } else {
      out.push_back(token);
    }
  }
  return out;
}

uint32_t hash3(const uint8_t* p) {
  const uint32_t v = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16;
  return (v * 2654435761u) >> (32 - kHashBits);
}

void put_varint(std::vector<uint8_t>& wire, uint32_t value) {
  for (; value >= 0x80; value >>= 7) wire.push_back(static_cast<uint8_t>(0x80 | (value & 0x7F)));
  wire.push_back(static_cast<uint8_t>(value));
}

void put_block(std::vector<uint8_t>& wire, std::span<const uint8_t> payload, uint32_t start,
               const std::vector<Token>& tokens, uint32_t end, uint32_t block_bytes, bool last, const Format& format) {
  const size_t begin = wire.size();
  const uint32_t length = end - start;
  for (int i = 0; i < 4; ++i) wire.push_back(static_cast<uint8_t>(start >> (8 * i)));
  wire.push_back(static_cast<uint8_t>(length));
  wire.push_back(static_cast<uint8_t>(length >> 8));
  for (const Token& token : tokens) {
    if (token.kind == Kind::kBase) {
      const uint32_t length = token.length - kMinBaseCopyBytes;
      const bool short_form = length < kBaseCopyShortLimit;
      wire.push_back(static_cast<uint8_t>(0x40 | (short_form ? length : kBaseCopyShortLimit)));
      put_varint(wire, zigzag(token.from, token.at));
      if (!short_form) put_varint(wire, length - static_cast<uint32_t>(kBaseCopyShortLimit));
      continue;
    }
    if (token.kind == Kind::kMatch) {
      wire.push_back(static_cast<uint8_t>(0x80 | (token.length - 3)));
      const uint32_t d = token.distance - 1;
      if (d < 0x80) {
        wire.push_back(static_cast<uint8_t>(d));
      } else {
        wire.push_back(static_cast<uint8_t>(0x80 | (d >> 8)));
        wire.push_back(static_cast<uint8_t>(d));
      }
      continue;
    }
    for (uint32_t done = 0; done < token.length;) {
      const uint32_t run = std::min<uint32_t>(format.max_literal, token.length - done);
      wire.push_back(static_cast<uint8_t>(run - 1));
      wire.insert(wire.end(), payload.begin() + token.at + done, payload.begin() + token.at + done + run);
      done += run;
    }
  }
  // Every block but the last fills its wire block, so block i starts at i * block_bytes.
  if (!last) wire.resize(begin + block_bytes, 0);
}

class VectorSink final : public BlockSink {
 public:
  explicit VectorSink(std::vector<uint8_t>& bytes) : bytes_(bytes) {}
  bool write(size_t offset, std::span<const uint8_t> data) override {
    if (offset + data.size() > bytes_.size()) return false;
    for (size_t i = 0; i < data.size(); ++i) bytes_[offset + i] &= data[i];
    return true;
  }
  bool read(size_t offset, std::span<uint8_t> out) const override {
    if (offset + out.size() > bytes_.size()) return false;
    std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
    return true;
  }

 private:
  std::vector<uint8_t>& bytes_;
};

void check_block_bytes(uint32_t block_bytes) {
  if (block_bytes < kMinWireBlockBytes || block_bytes > kDefaultWireBlockBytes || (block_bytes & (block_bytes - 1)))
    throw PackageError("wire block size " + std::to_string(block_bytes) + " is not a power of two in " +
                       std::to_string(kMinWireBlockBytes) + ".." + std::to_string(kDefaultWireBlockBytes));
}

// Where the base holds the longest run equal to the payload at `pos` (at most `max_length`):
// first the offset the last base copy used (a layout that did not move), then 4-byte hash chains.
class BaseIndex {
 public:
  explicit BaseIndex(std::span<const uint8_t> base) : base_(base) {
    if (base.size() < kMinBaseCopyBytes) return;
    head_.assign(size_t{1} << kHashBits, -1);
    prev_.assign(base.size(), -1);
    for (size_t at = 0; at + kMinBaseCopyBytes <= base.size(); ++at) {
      const uint32_t h = hash4(&base[at]);
      prev_[at] = head_[h];
      head_[h] = static_cast<int32_t>(at);
    }
  }

  // best.length == 0 when nothing of at least kMinBaseCopyBytes matches.
  Token find(std::span<const uint8_t> payload, uint32_t pos, uint32_t max_length, int64_t last_shift) const {
    Token best{Kind::kBase, pos, 0, 0, 0};
    if (head_.empty() || max_length < kMinBaseCopyBytes) return best;
    auto consider = [&](int64_t from) {
      if (from < 0 || static_cast<uint64_t>(from) >= base_.size()) return;
      const size_t limit = std::min<size_t>(max_length, base_.size() - static_cast<size_t>(from));
      uint32_t n = 0;
      while (n < limit && base_[static_cast<size_t>(from) + n] == payload[pos + n]) ++n;
      if (n > best.length) {
        best.length = n;
        best.from = static_cast<uint32_t>(from);
      }
    };
    consider(static_cast<int64_t>(pos) + last_shift);
    int32_t candidate = head_[hash4(&payload[pos])];
    for (int steps = 0; candidate >= 0 && steps < kMaxChainSteps && best.length < max_length; ++steps) {
      consider(candidate);
      candidate = prev_[static_cast<size_t>(candidate)];
    }
    if (best.length < kMinBaseCopyBytes) best.length = 0;
    return best;
  }

 private:
  static uint32_t hash4(const uint8_t* p) {
    const uint32_t v = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                       static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
    return (v * 2654435761u) >> (32 - kHashBits);
  }

  std::span<const uint8_t> base_;
  std::vector<int32_t> head_, prev_;
};

// Greedy: at each position the copy (in-block match or base copy) that saves the most wire bytes
// over literals, else a literal.
std::vector<uint8_t> encode(std::span<const uint8_t> payload, uint32_t block_bytes, const Format& format) {
  check_block_bytes(block_bytes);
  if (payload.empty()) throw PackageError("payload is empty");
  const size_t budget = block_bytes - kBlockHeaderBytes;
  const uint32_t size = static_cast<uint32_t>(payload.size());
  const BaseIndex base_index(format.base);
  std::vector<uint8_t> wire;
  std::vector<int32_t> head(size_t{1} << kHashBits);
  std::vector<int32_t> prev(kMaxBlockOutput);
  int64_t last_shift = 0;  // base offset minus output offset of the last base copy
  for (uint32_t start = 0; start < size;) {
    std::fill(head.begin(), head.end(), -1);
    const uint32_t limit = std::min<uint32_t>(size, start + kMaxBlockOutput);
    std::vector<Token> tokens;
    size_t spent = 0;  // cost of tokens before the open literal run
    uint32_t pos = start;
    auto insert = [&](uint32_t at) {
      if (at + 3 > size) return;
      const uint32_t h = hash3(&payload[at]);
      prev[at - start] = head[h];
      head[h] = static_cast<int32_t>(at - start);
    };
    while (pos < limit) {
      uint32_t best_length = 0, best_distance = 0;
      if (pos + 3 <= limit) {
        const uint32_t max_length = std::min<uint32_t>(kMaxMatchBytes, limit - pos);
        int32_t candidate = head[hash3(&payload[pos])];
        for (int steps = 0; candidate >= 0 && steps < kMaxChainSteps; ++steps, candidate = prev[candidate]) {
          const uint32_t from = start + static_cast<uint32_t>(candidate);
          if (pos - from > kMaxDistance) break;
          uint32_t n = 0;
          while (n < max_length && payload[from + n] == payload[pos + n]) ++n;
          if (n > best_length) {
            best_length = n;
            best_distance = pos - from;
            if (n == max_length) break;
          }
        }
      }
      const bool take_match = best_length >= 3 + (best_distance > 0x80 ? 1u : 0u);
      Token next =
          take_match ? Token{Kind::kMatch, pos, best_length, best_distance, 0} : Token{Kind::kLiteral, pos, 1, 0, 0};
      if (!format.base.empty() && pos + kMinBaseCopyBytes <= limit) {
        const Token copy = base_index.find(payload, pos, limit - pos, last_shift);
        const auto saved = [&](const Token& t) {
          return static_cast<int64_t>(t.length) - static_cast<int64_t>(cost(t, format));
        };
        if (copy.length > 0 && saved(copy) > 0 && (!take_match || saved(copy) > saved(next))) next = copy;
      }
      const bool open_literal = !tokens.empty() && tokens.back().kind == Kind::kLiteral;
      const bool extends = next.kind == Kind::kLiteral && open_literal;
      size_t after = spent;
      if (extends) {
        Token grown = tokens.back();
        grown.length += 1;
        after += cost(grown, format);
      } else {
        after += (open_literal ? cost(tokens.back(), format) : 0) + cost(next, format);
      }
      if (after > budget) break;
      if (extends) {
        tokens.back().length += 1;
      } else {
        if (open_literal) spent += cost(tokens.back(), format);
        if (next.kind != Kind::kLiteral) spent += cost(next, format);
        if (next.kind == Kind::kBase) last_shift = static_cast<int64_t>(next.from) - static_cast<int64_t>(next.at);
        tokens.push_back(next);
      }
      for (uint32_t i = 0; i < next.length; ++i) insert(pos + i);
      pos += next.length;
    }
    uint32_t end = pos;
    std::vector<Token> kept = tokens;
    if (end != size) {
      end = start + (pos - start) / kOutputAlign * kOutputAlign;
      kept = cut_at(tokens, end);
      while (cost(kept, format) > budget) {  // a copy cut to literals can cost a byte more
        end -= kOutputAlign;
        kept = cut_at(tokens, end);
      }
      if (end == start) throw PackageError("cannot encode a block (internal: wire block too small)");
    }
    put_block(wire, payload, start, kept, end, block_bytes, end == size, format);
    start = end;
  }
  return wire;
}

std::vector<uint8_t> decode(std::span<const uint8_t> wire, uint32_t block_bytes, uint32_t payload_size,
                            const std::span<const uint8_t>* base) {
  check_block_bytes(block_bytes);
  std::vector<uint8_t> out(payload_size, 0xFF);
  VectorSink sink(out);
  for (size_t at = 0, index = 0; at < wire.size(); at += block_bytes, ++index) {
    const auto block = wire.subspan(at, std::min<size_t>(block_bytes, wire.size() - at));
    BlockRange range;
    const Reason decoded = base != nullptr ? decode_delta_block(block, payload_size, *base, sink, range)
                                           : decode_block(block, payload_size, sink, range);
    if (decoded != Reason::kOk)
      throw PackageError("encoded payload: block " + std::to_string(index) + " (wire offset " + std::to_string(at) +
                         ") does not decode");
  }
  return out;
}

}  // namespace

std::vector<uint8_t> encode_lz_blocks(std::span<const uint8_t> payload, uint32_t block_bytes) {
  return encode(payload, block_bytes, Format{});
}

std::vector<uint8_t> decode_lz_blocks(std::span<const uint8_t> wire, uint32_t block_bytes, uint32_t payload_size) {
  return decode(wire, block_bytes, payload_size, nullptr);
}

std::vector<uint8_t> encode_delta_blocks(std::span<const uint8_t> payload, std::span<const uint8_t> base,
                                         uint32_t block_bytes) {
  if (base.empty()) throw PackageError("delta base is empty");
  return encode(payload, block_bytes, Format{base, kMaxDeltaLiteralRun});
}

std::vector<uint8_t> decode_delta_blocks(std::span<const uint8_t> wire, uint32_t block_bytes, uint32_t payload_size,
                                         std::span<const uint8_t> base) {
  return decode(wire, block_bytes, payload_size, &base);
}

}  // namespace tinyedge::ota
