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

struct Token {
  bool match = false;
  uint32_t at = 0;  // output offset of its first byte
  uint32_t length = 0;
  uint32_t distance = 0;
};

size_t distance_bytes(uint32_t distance) { return distance <= 0x80 ? 1 : 2; }

size_t cost(const Token& token) {
  if (token.match) return 1 + distance_bytes(token.distance);
  return token.length + (token.length + kMaxLiteralRun - 1) / kMaxLiteralRun;
}

size_t cost(const std::vector<Token>& tokens) {
  size_t total = 0;
  for (const Token& token : tokens) total += cost(token);
  return total;
}

// The tokens cut to produce exactly the output before `end`.
std::vector<Token> cut_at(const std::vector<Token>& tokens, uint32_t end) {
  std::vector<Token> out;
  for (Token token : tokens) {
    if (token.at >= end) break;
    if (token.at + token.length > end) {
      token.length = end - token.at;
      if (token.match && token.length < 3) token.match = false;  // too short for a match: literals
    }
    if (!out.empty() && !out.back().match && !token.match) {
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

void put_block(std::vector<uint8_t>& wire, std::span<const uint8_t> payload, uint32_t start,
               const std::vector<Token>& tokens, uint32_t end, uint32_t block_bytes, bool last) {
  const size_t begin = wire.size();
  const uint32_t length = end - start;
  for (int i = 0; i < 4; ++i) wire.push_back(static_cast<uint8_t>(start >> (8 * i)));
  wire.push_back(static_cast<uint8_t>(length));
  wire.push_back(static_cast<uint8_t>(length >> 8));
  for (const Token& token : tokens) {
    if (token.match) {
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
      const uint32_t run = std::min<uint32_t>(kMaxLiteralRun, token.length - done);
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

}  // namespace

std::vector<uint8_t> encode_lz_blocks(std::span<const uint8_t> payload, uint32_t block_bytes) {
  check_block_bytes(block_bytes);
  if (payload.empty()) throw PackageError("payload is empty");
  const size_t budget = block_bytes - kBlockHeaderBytes;
  const uint32_t size = static_cast<uint32_t>(payload.size());
  std::vector<uint8_t> wire;
  std::vector<int32_t> head(size_t{1} << kHashBits);
  std::vector<int32_t> prev(kMaxBlockOutput);
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
      const bool take = best_length >= 3 + (best_distance > 0x80 ? 1u : 0u);
      Token next = take ? Token{true, pos, best_length, best_distance} : Token{false, pos, 1, 0};
      const bool open_literal = !tokens.empty() && !tokens.back().match;
      const bool extends = !take && open_literal;
      size_t after = spent;
      if (extends) {
        Token grown = tokens.back();
        grown.length += 1;
        after += cost(grown);
      } else {
        after += (open_literal ? cost(tokens.back()) : 0) + cost(next);
      }
      if (after > budget) break;
      if (extends) {
        tokens.back().length += 1;
      } else {
        if (open_literal) spent += cost(tokens.back());
        if (next.match) spent += cost(next);
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
      while (cost(kept) > budget) {  // a match cut to literals can cost a byte more
        end -= kOutputAlign;
        kept = cut_at(tokens, end);
      }
      if (end == start) throw PackageError("cannot encode a block (internal: wire block too small)");
    }
    put_block(wire, payload, start, kept, end, block_bytes, end == size);
    start = end;
  }
  return wire;
}

std::vector<uint8_t> decode_lz_blocks(std::span<const uint8_t> wire, uint32_t block_bytes, uint32_t payload_size) {
  check_block_bytes(block_bytes);
  std::vector<uint8_t> out(payload_size, 0xFF);
  VectorSink sink(out);
  for (size_t at = 0, index = 0; at < wire.size(); at += block_bytes, ++index) {
    const auto block = wire.subspan(at, std::min<size_t>(block_bytes, wire.size() - at));
    BlockRange range;
    if (decode_block(block, payload_size, sink, range) != Reason::kOk)
      throw PackageError("encoded payload: block " + std::to_string(index) + " (wire offset " + std::to_string(at) +
                         ") does not decode");
  }
  return out;
}

}  // namespace tinyedge::ota
