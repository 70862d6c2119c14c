#include "node_firmware/text/text_front_end.h"

namespace tinyedge::text {
namespace {

// FNV-1a (32-bit): simple, byte-at-a-time, the same on every CPU. A gram's hash starts from the
// seed, its kind and its order, so the word "ab" and the character bigram "ab" differ.
constexpr uint32_t kFnvPrime = 16777619u;
constexpr uint32_t kFnvBasis = 2166136261u;
constexpr uint8_t kWordGram = 'w', kCharGram = 'c';
constexpr uint8_t kBeginWord = '<', kEndWord = '>';  // fastText's word boundary marks

uint32_t mix(uint32_t h, uint8_t byte) { return (h ^ byte) * kFnvPrime; }
uint32_t mix32(uint32_t h, uint32_t v) {
  for (int i = 0; i < 4; ++i) h = mix(h, static_cast<uint8_t>(v >> (8 * i)));
  return h;
}
uint32_t gram_start(uint32_t seed, uint8_t kind, uint8_t order) {
  return mix(mix(mix32(kFnvBasis, seed), kind), order);
}

// Length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF), or 0.
std::size_t utf8_length(std::span<const uint8_t> text, std::size_t i) {
  const uint8_t b = text[i];
  if (b < 0x80) return 1;
  std::size_t n;
  uint8_t lo = 0x80, hi = 0xBF;  // the second byte's range
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (text.size() - i < n) return 0;
  if (text[i + 1] < lo || text[i + 1] > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (text[i + k] < 0x80 || text[i + k] > 0xBF) return 0;
  return n;
}

// Word bytes: ASCII letters and digits, and every non-ASCII character (letters of other scripts;
// punctuation outside ASCII is rare enough not to need tables). Everything else separates words.
bool is_word_byte(uint8_t b) {
  return b >= 0x80 || (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
}

class Counter {
 public:
  Counter(const TextFrontEndConfig& c, std::span<uint16_t> counts) : c_(c), counts_(counts) {}
  void add(uint32_t hash) {
    uint16_t& n = counts_[hash % c_.buckets];
    if (n != UINT16_MAX) ++n;
  }
  uint8_t fold(uint8_t b) const { return c_.lowercase && b >= 'A' && b <= 'Z' ? static_cast<uint8_t>(b + 32) : b; }

  // One word (text[begin, end), well-formed UTF-8): its character n-grams, over code points of
  // "<word>", and the word n-grams it ends.
  void word(std::span<const uint8_t> text, std::size_t begin, std::size_t end) {
    uint32_t h = mix32(kFnvBasis, c_.seed);
    for (std::size_t i = begin; i < end; ++i) h = mix(h, fold(text[i]));
    for (int k = kMaxWordOrder - 1; k > 0; --k) recent_[k] = recent_[k - 1];
    recent_[0] = h;
    if (words_ < kMaxWordOrder) ++words_;
    if (c_.word_min > 0) {
      for (uint8_t n = c_.word_min; n <= c_.word_max && n <= words_; ++n) {
        uint32_t g = gram_start(c_.seed, kWordGram, n);
        for (int k = n - 1; k >= 0; --k) g = mix32(g, recent_[k]);  // oldest word first
        add(g);
      }
    }
    if (c_.char_min > 0) chars(text, begin, end);
  }

 private:
  // Code points of "<word>" as (start, length) in the word's bytes; the marks have length 0.
  void chars(std::span<const uint8_t> text, std::size_t begin, std::size_t end) {
    struct Unit {
      std::size_t start = 0, length = 0;
      uint8_t mark = 0;
    };
    Unit window[kMaxCharOrder];  // the last char_max units, window[0] newest
    std::size_t seen = 0;
    std::size_t i = begin;
    bool done = false;
    for (bool first = true; !done; first = false) {
      Unit u;
      if (first) {
        u.mark = kBeginWord;
      } else if (i < end) {
        u.start = i;
        u.length = utf8_length(text, i);  // already checked well-formed
        i += u.length;
      } else {
        u.mark = kEndWord;
        done = true;
      }
      for (int k = kMaxCharOrder - 1; k > 0; --k) window[k] = window[k - 1];
      window[0] = u;
      ++seen;
      for (uint8_t n = c_.char_min; n <= c_.char_max && n <= seen; ++n) {
        if (n == 1 && u.mark != 0) continue;  // a mark alone is no character
        uint32_t g = gram_start(c_.seed, kCharGram, n);
        for (int k = n - 1; k >= 0; --k) {
          const Unit& w = window[k];
          if (w.mark != 0) {
            g = mix(g, w.mark);
          } else {
            for (std::size_t b = 0; b < w.length; ++b) g = mix(g, fold(text[w.start + b]));
          }
        }
        add(g);
      }
    }
  }

  const TextFrontEndConfig& c_;
  std::span<uint16_t> counts_;
  uint32_t recent_[kMaxWordOrder] = {};  // hashes of the last words, [0] newest
  uint8_t words_ = 0;
};

}  // namespace

const char* to_string(TextStatus status) {
  switch (status) {
    case TextStatus::kOk:
      return "ok";
    case TextStatus::kNotTextRecord:
      return "not a text front-end record this node runs (wrong size, magic or reserved bits)";
    case TextStatus::kBadBuckets:
      return "bucket count outside 2..16384";
    case TextStatus::kBadOrders:
      return "n-gram orders out of range (words 1..4, characters 1..8, min <= max, at least one kind)";
    case TextStatus::kBadUtf8:
      return "text is not UTF-8";
    case TextStatus::kStorageTooSmall:
      return "storage smaller than the bucket count";
  }
  return "unknown text status";
}

TextStatus TextFrontEndConfig::validate() const {
  if (buckets < 2 || buckets > kMaxBuckets) return TextStatus::kBadBuckets;
  const auto range_ok = [](uint8_t lo, uint8_t hi, uint8_t limit) {
    return (lo == 0 && hi == 0) || (lo >= 1 && lo <= hi && hi <= limit);
  };
  if (!range_ok(word_min, word_max, kMaxWordOrder) || !range_ok(char_min, char_max, kMaxCharOrder) ||
      (word_min == 0 && char_min == 0))
    return TextStatus::kBadOrders;
  return TextStatus::kOk;
}

TextStatus count_ngrams(const TextFrontEndConfig& config, std::span<const uint8_t> text, std::span<uint16_t> counts,
                        std::size_t* bad_offset) {
  if (const TextStatus s = config.validate(); s != TextStatus::kOk) return s;
  if (counts.size() < config.buckets) return TextStatus::kStorageTooSmall;
  // The whole line first: a bad byte counts nothing.
  if (const TextStatus s = check_utf8(text, bad_offset); s != TextStatus::kOk) return s;
  for (auto& n : counts.first(config.buckets)) n = 0;
  Counter counter(config, counts);
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !is_word_byte(text[i])) ++i;
    const std::size_t begin = i;
    while (i < text.size() && is_word_byte(text[i])) ++i;
    if (i > begin) counter.word(text, begin, i);
  }
  return TextStatus::kOk;
}

TextStatus check_utf8(std::span<const uint8_t> text, std::size_t* bad_offset) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);
    if (n == 0) {
      if (bad_offset != nullptr) *bad_offset = i;
      return TextStatus::kBadUtf8;
    }
    i += n;
  }
  return TextStatus::kOk;
}

TextStatus quantize_counts(std::span<const uint16_t> counts, float scale, int32_t zero_point, std::span<int8_t> out) {
  if (out.size() < counts.size()) return TextStatus::kStorageTooSmall;
  const float inverse = 1.0f / scale;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const float v = static_cast<float>(counts[i]) * inverse;
    int32_t q = static_cast<int32_t>(v + 0.5f) + zero_point;  // counts are >= 0: round half up
    q = q < -128 ? -128 : (q > 127 ? 127 : q);
    out[i] = static_cast<int8_t>(q);
  }
  return TextStatus::kOk;
}

}  // namespace tinyedge::text
