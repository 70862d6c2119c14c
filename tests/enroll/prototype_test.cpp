// Fixed-point cosine and the embedding-head record.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "node_firmware/enroll/embedding_head.h"
#include "node_firmware/enroll/prototype_math.h"

namespace tinyedge::enroll {
namespace {

TEST(PrototypeMath, IsqrtIsTheExactFloor) {
  for (uint64_t v : {0ull, 1ull, 2ull, 3ull, 4ull, 15ull, 16ull, 17ull, 99999999ull, (1ull << 62) + 12345, ~0ull}) {
    const uint64_t r = isqrt64(v);
    EXPECT_LE(r * r, v) << v;
    EXPECT_GT(static_cast<unsigned __int128>(r + 1) * (r + 1), v) << v;
  }
}

TEST(PrototypeMath, CosineMatchesFloatingPointWithinQ14Rounding) {
  const std::vector<int32_t> a = {100, -3, 40, 7, 0, -90, 12, 5};
  const std::vector<int32_t> b = {80, 10, 20, -7, 3, -60, 0, 9};
  std::vector<int16_t> ua(a.size()), ub(b.size());
  ASSERT_TRUE(normalize_q14(a, ua));
  ASSERT_TRUE(normalize_q14(b, ub));
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  const double want = dot / std::sqrt(na * nb);
  EXPECT_NEAR(cosine_q14(ua, ub) / 16384.0, want, 3.0 / 16384);
  EXPECT_NEAR(cosine_q14(ua, ua), kQ14One, 2);
  std::vector<int16_t> neg(ua.size());
  for (size_t i = 0; i < ua.size(); ++i) neg[i] = static_cast<int16_t>(-ua[i]);
  EXPECT_NEAR(cosine_q14(ua, neg), -kQ14One, 2);
}

TEST(PrototypeMath, ZeroVectorHasNoDirection) {
  const std::vector<int32_t> zero(8, 0);
  std::vector<int16_t> out(8, 7);
  EXPECT_FALSE(normalize_q14(zero, out));
  EXPECT_EQ(out[0], 7) << "a refused vector must leave the output untouched";
  // Opposite examples cancel: no prototype.
  const std::vector<int16_t> opposite = {16384, 0, -16384, 0};
  std::vector<int16_t> proto(2);
  EXPECT_FALSE(mean_direction_q14(opposite, 2, proto));
}

TEST(PrototypeMath, LargeValuesDoNotOverflow) {
  std::vector<int32_t> big(kMaxEmbeddingDim, 2147483647);
  big[1] = -2147483647 - 1;
  std::vector<int16_t> unit(kMaxEmbeddingDim);
  ASSERT_TRUE(normalize_q14(big, unit));
  // 128 components of ~1448 each rounded to Q14: the rounding alone moves the norm by ~2e-4.
  EXPECT_NEAR(cosine_q14(unit, unit), kQ14One, 6);
  EXPECT_NEAR(unit[0], 1448, 1);
  EXPECT_NEAR(unit[1], -1448, 1);
}

std::vector<uint8_t> head_record(uint16_t dim, uint16_t classes) {
  std::vector<int16_t> thresholds(classes, 9000), prototypes(size_t{classes} * dim, 0);
  for (uint16_t c = 0; c < classes; ++c) prototypes[c * dim + c % dim] = 16384;
  std::vector<uint8_t> record(embedding_head_bytes(dim, classes));
  EXPECT_TRUE(encode_embedding_head(dim, thresholds, prototypes, record));
  return record;
}

TEST(EmbeddingHeadRecord, RoundTrips) {
  const auto record = head_record(16, 3);
  EmbeddingHead head;
  ASSERT_EQ(decode_embedding_head(record, head), EnrollStatus::kOk);
  EXPECT_EQ(head.dim, 16);
  EXPECT_EQ(head.class_count, 3);
  EXPECT_EQ(head.thresholds[2], 9000);
  EXPECT_EQ(head.prototype(2)[2], 16384);
}

TEST(EmbeddingHeadRecord, FoundAloneOrAfterTheAudioRecord) {
  const auto record = head_record(8, 2);
  EXPECT_EQ(find_embedding_head(record).size(), record.size());
  std::vector<uint8_t> both(kAudioRecordBytes, 0);
  both[0] = 'A', both[1] = 'F', both[2] = 'E', both[3] = '1';
  both.insert(both.end(), record.begin(), record.end());
  EXPECT_EQ(find_embedding_head(both).data(), both.data() + kAudioRecordBytes);
  EXPECT_TRUE(find_embedding_head(std::span(both).first(kAudioRecordBytes)).empty()) << "audio record only";
}

TEST(EmbeddingHeadRecord, MalformedRecordsAreRefused) {
  const auto good = head_record(8, 2);
  EmbeddingHead head;
  auto bad = good;
  bad[0] ^= 1;
  EXPECT_EQ(decode_embedding_head(bad, head), EnrollStatus::kBadHead) << "magic";
  EXPECT_EQ(decode_embedding_head(std::span(good).first(good.size() - 2), head), EnrollStatus::kBadHead) << "truncated";
  bad = good;
  bad[6] = 200;  // dim 200 > kMaxEmbeddingDim
  EXPECT_EQ(decode_embedding_head(bad, head), EnrollStatus::kBadHead) << "dim";
  bad = good;
  bad[16] = 0xFF, bad[17] = 0x7F;  // threshold 32767 > 1.0
  EXPECT_EQ(decode_embedding_head(bad, head), EnrollStatus::kBadHead) << "threshold out of range";
  bad = good;
  bad[10] = 1;  // unknown metric
  EXPECT_EQ(decode_embedding_head(bad, head), EnrollStatus::kBadHead) << "metric";
  EXPECT_EQ(head.dim, 0) << "a refused record must not fill the head";
  EXPECT_EQ(decode_embedding_head({}, head), EnrollStatus::kBadHead);
}

}  // namespace
}  // namespace tinyedge::enroll
