// The node's text front-end: a line of UTF-8 text -> counts of hashed word and character n-grams
// in a fixed number of buckets (the "hashing trick": no vocabulary to ship or keep in RAM), then
// int8 with the model's input quantisation. Its parameters travel in the model (.tem front-end
// record, text_record.h), so the trainer and every node tokenize a text to the same buckets.
// Freestanding: no heap, no exceptions; the caller gives the count storage.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace tinyedge::text {

enum class TextStatus : uint8_t {
  kOk,
  kNotTextRecord,    // wrong size, magic or reserved bits: another sensor's record, or a newer layout
  kBadBuckets,       // outside 2..kMaxBuckets
  kBadOrders,        // an n-gram range outside its limits, min > max, or no n-grams at all
  kBadUtf8,          // the text is not well-formed UTF-8
  kStorageTooSmall,  // fewer counts (or output bytes) than buckets
};
const char* to_string(TextStatus status);

inline constexpr uint32_t kMaxBuckets = 16384;
inline constexpr uint8_t kMaxWordOrder = 4;
inline constexpr uint8_t kMaxCharOrder = 8;

struct TextFrontEndConfig {
  uint32_t buckets = 2048;
  uint8_t word_min = 1, word_max = 2;  // word n-grams (0, 0: none)
  uint8_t char_min = 3, char_max = 5;  // character n-grams inside "<word>" (0, 0: none)
  bool lowercase = true;               // ASCII A-Z only: the same on every node, no tables
  uint32_t seed = 0x7e47;              // mixed into every hash (models with other seeds use other buckets)
  [[nodiscard]] TextStatus validate() const;
};

// Counts every n-gram of `text` into counts[bucket] (saturating; counts are zeroed first).
// kBadUtf8 sets `bad_offset` to the first byte that is not UTF-8; counts are then unspecified.
[[nodiscard]] TextStatus count_ngrams(const TextFrontEndConfig& config, std::span<const uint8_t> text,
                                      std::span<uint16_t> counts, std::size_t* bad_offset = nullptr);

// kOk when `text` is well-formed UTF-8 (RFC 3629), else kBadUtf8 with `bad_offset` at the first
// byte that is not.
[[nodiscard]] TextStatus check_utf8(std::span<const uint8_t> text, std::size_t* bad_offset = nullptr);

// q = round(count / scale) + zero_point, saturated to int8 (the model's input tensor).
[[nodiscard]] TextStatus quantize_counts(std::span<const uint16_t> counts, float scale, int32_t zero_point,
                                         std::span<int8_t> out);

}  // namespace tinyedge::text
