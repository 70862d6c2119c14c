// The node's text front-end: hashed n-gram counts equal a plain std::string statement of the rules
// (words, "<word>" character n-grams over code points, FNV-1a with seed, kind and order), on ASCII
// and multi-byte text; its record round-trips and a record it cannot run is refused, leaving the
// config untouched; malformed UTF-8 is refused at its first bad byte.
#include "node_firmware/text/text_front_end.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <vector>

#include "node_firmware/text/text_record.h"

namespace {

using tinyedge::text::TextFrontEndConfig;
using tinyedge::text::TextStatus;

std::span<const uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// --- the rules, restated with strings -------------------------------------------------------
uint32_t fnv(uint32_t h, const std::string& s) {
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}
std::string le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}
uint32_t seeded(uint32_t seed) { return fnv(2166136261u, le32(seed)); }

std::vector<std::string> words_of(const std::string& text, bool lower) {
  std::vector<std::string> words;
  std::string w;
  for (char ch : text + " ") {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || std::isalnum(c)) {
      w += lower && c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : ch;
    } else if (!w.empty()) {
      words.push_back(w);
      w.clear();
    }
  }
  return words;
}

std::vector<std::string> code_points(const std::string& w) {
  std::vector<std::string> cps;
  for (std::size_t i = 0; i < w.size();) {
    const auto c = static_cast<unsigned char>(w[i]);
    const std::size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    cps.push_back(w.substr(i, n));
    i += n;
  }
  return cps;
}

std::vector<uint16_t> reference_counts(const TextFrontEndConfig& c, const std::string& text) {
  std::vector<uint16_t> counts(c.buckets, 0);
  const auto words = words_of(text, c.lowercase);
  for (std::size_t i = 0; i < words.size(); ++i) {
    for (int n = c.word_min; c.word_min > 0 && n <= c.word_max; ++n) {
      if (static_cast<std::size_t>(n) > i + 1) continue;
      uint32_t h = fnv(seeded(c.seed), std::string("w") + static_cast<char>(n));
      for (std::size_t k = i + 1 - n; k <= i; ++k) h = fnv(h, le32(fnv(seeded(c.seed), words[k])));
      ++counts[h % c.buckets];
    }
    std::vector<std::string> units{"<"};
    for (const auto& cp : code_points(words[i])) units.push_back(cp);
    units.push_back(">");
    for (std::size_t end = 0; c.char_min > 0 && end < units.size(); ++end) {
      for (int n = c.char_min; n <= c.char_max && static_cast<std::size_t>(n) <= end + 1; ++n) {
        if (n == 1 && (units[end] == "<" || units[end] == ">")) continue;
        std::string gram;
        for (std::size_t k = end + 1 - n; k <= end; ++k) gram += units[k];
        ++counts[fnv(fnv(seeded(c.seed), std::string("c") + static_cast<char>(n)), gram) % c.buckets];
      }
    }
  }
  return counts;
}
// ----------------------------------------------------------------------------------------------

std::vector<uint16_t> counts_of(const TextFrontEndConfig& c, const std::string& text) {
  std::vector<uint16_t> counts(c.buckets, 0xBEEF);  // stale values must not survive
  EXPECT_EQ(tinyedge::text::count_ngrams(c, bytes(text), counts), TextStatus::kOk) << text;
  return counts;
}

TEST(TextFrontEnd, CountsEqualTheRulesStatedWithStrings) {
  const std::vector<std::string> texts{"Hello, world! Hello again.",
                                       "The quick brown fox jumps over the lazy dog 42 times",
                                       "naïve café — déjà vu",
                                       "東京 タワー and ÜBER straße",
                                       "a",
                                       "  ...  ",
                                       "x1 y2 z3 x1 y2 z3"};
  std::vector<TextFrontEndConfig> configs(4);
  configs[1].buckets = 97;
  configs[1].word_min = configs[1].word_max = 1;
  configs[1].char_min = 1;
  configs[1].char_max = 8;
  configs[1].seed = 12345;
  configs[2].word_min = 1;
  configs[2].word_max = 4;
  configs[2].char_min = configs[2].char_max = 0;
  configs[2].lowercase = false;
  configs[3].word_min = configs[3].word_max = 0;
  configs[3].char_min = 2;
  configs[3].char_max = 3;
  for (std::size_t k = 0; k < configs.size(); ++k) {
    ASSERT_EQ(configs[k].validate(), TextStatus::kOk) << k;
    for (const auto& t : texts) EXPECT_EQ(counts_of(configs[k], t), reference_counts(configs[k], t)) << k << ": " << t;
  }
  // Something was counted: "Hello" twice as a word, so some bucket holds at least 2.
  const auto c = counts_of(configs[0], texts[0]);
  EXPECT_GE(*std::max_element(c.begin(), c.end()), 2);
  EXPECT_EQ(counts_of(configs[0], "  ...  "), std::vector<uint16_t>(configs[0].buckets, 0));
}

TEST(TextFrontEnd, LowerCasingAndTheSeedChangeTheBuckets) {
  TextFrontEndConfig c;
  EXPECT_EQ(counts_of(c, "Hello World"), counts_of(c, "hello world"));
  c.lowercase = false;
  EXPECT_NE(counts_of(c, "Hello World"), counts_of(c, "hello world"));
  TextFrontEndConfig other;
  other.seed = c.seed + 1;
  EXPECT_NE(counts_of(TextFrontEndConfig{}, "hello world"), counts_of(other, "hello world"));
}

TEST(TextFrontEnd, MalformedUtf8IsRefusedAtItsFirstBadByte) {
  const TextFrontEndConfig c;
  std::vector<uint16_t> counts(c.buckets);
  const std::vector<std::pair<std::string, std::size_t>> bad{
      {"ok \xFF", 3},           {"ab\xC0\x80", 2},   {"\xED\xA0\x80 surrogate", 0},
      {"x\xF5\x80\x80\x80", 1}, {"cut \xE2\x82", 4}, {"\x80 lone continuation", 0},
      {"\xF4\x90\x80\x80", 0}};
  for (const auto& [text, at] : bad) {
    std::size_t where = 999;
    EXPECT_EQ(tinyedge::text::count_ngrams(c, bytes(text), counts, &where), TextStatus::kBadUtf8) << text;
    EXPECT_EQ(where, at) << text;
    EXPECT_EQ(tinyedge::text::check_utf8(bytes(text)), TextStatus::kBadUtf8) << text;
  }
  EXPECT_EQ(tinyedge::text::check_utf8(bytes("€ 𝄞 ü")), TextStatus::kOk);
}

TEST(TextFrontEnd, RefusesConfigsItCannotRunAndStorageTooSmall) {
  std::vector<uint16_t> counts(4096);
  TextFrontEndConfig c;
  c.buckets = 1;
  EXPECT_EQ(tinyedge::text::count_ngrams(c, bytes("a"), counts), TextStatus::kBadBuckets);
  c.buckets = tinyedge::text::kMaxBuckets + 1;
  EXPECT_EQ(c.validate(), TextStatus::kBadBuckets);
  c = {};
  c.word_min = 3;
  c.word_max = 2;
  EXPECT_EQ(c.validate(), TextStatus::kBadOrders);
  c = {};
  c.char_max = 9;
  EXPECT_EQ(c.validate(), TextStatus::kBadOrders);
  c = {};
  c.word_min = c.word_max = c.char_min = c.char_max = 0;
  EXPECT_EQ(c.validate(), TextStatus::kBadOrders);
  c = {};
  c.buckets = 4097;
  EXPECT_EQ(tinyedge::text::count_ngrams(c, bytes("a"), counts), TextStatus::kStorageTooSmall);
}

TEST(TextFrontEnd, QuantisesCountsWithTheModelsInputScaleRoundingAndSaturating) {
  const std::vector<uint16_t> counts{0, 1, 2, 3, 1000};
  std::vector<int8_t> q(5);
  ASSERT_EQ(tinyedge::text::quantize_counts(counts, 0.4f, -128, q), TextStatus::kOk);
  EXPECT_EQ(q, (std::vector<int8_t>{-128, -125, -123, -120, 127}));  // 2.5 -> 3, 5, 7.5 -> 8
  std::vector<int8_t> small(4);
  EXPECT_EQ(tinyedge::text::quantize_counts(counts, 1.0f, 0, small), TextStatus::kStorageTooSmall);
}

TEST(TextRecord, RoundTripsEveryField) {
  TextFrontEndConfig c;
  c.buckets = 3001;
  c.word_min = 2;
  c.word_max = 3;
  c.char_min = 1;
  c.char_max = 6;
  c.lowercase = false;
  c.seed = 0xDEADBEEF;
  std::array<uint8_t, tinyedge::text::kTextRecordBytes> rec{};
  tinyedge::text::encode_text_record(c, rec);
  TextFrontEndConfig d;
  ASSERT_EQ(tinyedge::text::decode_text_record(rec, d), TextStatus::kOk);
  EXPECT_EQ(d.buckets, c.buckets);
  EXPECT_EQ(d.word_min, 2);
  EXPECT_EQ(d.word_max, 3);
  EXPECT_EQ(d.char_min, 1);
  EXPECT_EQ(d.char_max, 6);
  EXPECT_FALSE(d.lowercase);
  EXPECT_EQ(d.seed, 0xDEADBEEFu);
}

TEST(TextRecord, ARecordTheNodeCannotRunIsRefusedAndChangesNothing) {
  std::array<uint8_t, tinyedge::text::kTextRecordBytes> good{};
  tinyedge::text::encode_text_record(TextFrontEndConfig{}, good);
  struct Case {
    const char* what;
    std::size_t at;
    uint8_t value;
    TextStatus expected;
  };
  const std::vector<Case> cases{{"audio magic", 0, 'A', TextStatus::kNotTextRecord},
                                {"newer layout (TFE2)", 3, '2', TextStatus::kNotTextRecord},
                                {"unknown flag bit", 12, 3, TextStatus::kNotTextRecord},
                                {"reserved byte", 14, 1, TextStatus::kNotTextRecord},
                                {"zero buckets", 5, 0, TextStatus::kBadBuckets},
                                {"word order 5", 9, 5, TextStatus::kBadOrders},
                                {"char order 9", 11, 9, TextStatus::kBadOrders},
                                {"min above max", 10, 6, TextStatus::kBadOrders}};
  for (const auto& k : cases) {
    auto rec = good;
    rec[k.at] = k.value;
    if (k.at == 5) rec[4] = 0;  // buckets 0
    TextFrontEndConfig out;
    out.buckets = 77;
    EXPECT_EQ(tinyedge::text::decode_text_record(rec, out), k.expected) << k.what;
    EXPECT_EQ(out.buckets, 77u) << k.what << ": the config was written on a refusal";
  }
  TextFrontEndConfig out;
  EXPECT_EQ(tinyedge::text::decode_text_record(std::span(good).first(19), out), TextStatus::kNotTextRecord);
  const std::vector<uint8_t> longer(28, 0);
  EXPECT_EQ(tinyedge::text::decode_text_record(longer, out), TextStatus::kNotTextRecord);
}

}  // namespace
