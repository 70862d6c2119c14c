#include "node_firmware/text/text_record.h"

namespace tinyedge::text {
namespace {

// Byte offsets of the record's fields (little-endian).
enum Field : uint32_t {
  kMagic = 0,
  kBuckets = 4,
  kWordMin = 8,
  kWordMax = 9,
  kCharMin = 10,
  kCharMax = 11,
  kFlags = 12,  // bit 0: lower-case ASCII; the other bits and bytes 13..15 are reserved, zero
  kSeed = 16,
};
constexpr uint8_t kLowercase = 1;

void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

}  // namespace

void encode_text_record(const TextFrontEndConfig& c, std::span<uint8_t, kTextRecordBytes> out) {
  uint8_t* p = out.data();
  for (auto& b : out) b = 0;
  put32(p + kMagic, kTextRecordMagic);
  put32(p + kBuckets, c.buckets);
  p[kWordMin] = c.word_min;
  p[kWordMax] = c.word_max;
  p[kCharMin] = c.char_min;
  p[kCharMax] = c.char_max;
  p[kFlags] = c.lowercase ? kLowercase : 0;
  put32(p + kSeed, c.seed);
}

TextStatus decode_text_record(std::span<const uint8_t> record, TextFrontEndConfig& out) {
  if (record.size() != kTextRecordBytes) return TextStatus::kNotTextRecord;
  const uint8_t* p = record.data();
  if (get32(p + kMagic) != kTextRecordMagic || (p[kFlags] & ~kLowercase) != 0 || p[13] != 0 || p[14] != 0 || p[15] != 0)
    return TextStatus::kNotTextRecord;
  TextFrontEndConfig c;
  c.buckets = get32(p + kBuckets);
  c.word_min = p[kWordMin];
  c.word_max = p[kWordMax];
  c.char_min = p[kCharMin];
  c.char_max = p[kCharMax];
  c.lowercase = (p[kFlags] & kLowercase) != 0;
  c.seed = get32(p + kSeed);
  if (const TextStatus s = c.validate(); s != TextStatus::kOk) return s;
  out = c;
  return TextStatus::kOk;
}

}  // namespace tinyedge::text
