// The integer maths the front-end's tables and log come from, against <cmath>.
#include "node_firmware/audio/fixed_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace tinyedge::audio {
namespace {

TEST(AudioFixedMath, CosSinWithinEightQ30UnitsOfStd) {
  for (uint32_t den : {7u, 16u, 480u, 512u, 1024u, 1u << 24}) {
    const uint32_t step = den > 4096 ? den / 4093 : 1;
    for (uint32_t num = 0; num < den; num += step) {
      const CosSinQ30 v = cos_sin_q30(num, den);
      const double a = 2 * M_PI * num / den;
      ASSERT_NEAR(v.cos, std::cos(a) * (1 << 30), 8) << "cos(2 pi " << num << "/" << den << ")";
      ASSERT_NEAR(v.sin, std::sin(a) * (1 << 30), 8) << "sin(2 pi " << num << "/" << den << ")";
    }
  }
}

TEST(AudioFixedMath, Log2WithinTwoToMinus22) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t x = (rng() >> (rng() % 63)) | 1;
    const double want = std::log2(static_cast<double>(x));
    ASSERT_NEAR(log2_q24(x) / double(1 << 24), want, std::ldexp(1.0, -22)) << "log2(" << x << ")";
  }
  EXPECT_EQ(log2_q24(1), 0);
  EXPECT_EQ(log2_q24(0), 0) << "log2(0) is treated as log2(1): silence maps to the floor";
  EXPECT_EQ(log2_q24(uint64_t{1} << 40), 40 << 24);
}

TEST(AudioFixedMath, IsqrtIsTheFloorOfTheSquareRoot) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t x = rng() >> (rng() % 64);
    const uint64_t r = isqrt64(x);
    ASSERT_LE(r * r, x);
    ASSERT_GT((r + 1) * (r + 1), x) << x;
  }
  EXPECT_EQ(isqrt64(std::numeric_limits<uint64_t>::max()), 0xFFFFFFFFu);
}

TEST(AudioFixedMath, OutputQuantisationRoundsLikeDivisionByTheScale) {
  std::mt19937 rng(5);
  for (float scale : {0.0625f, 0.1f, 0.3333f, 1.0f, 2.5f, 1e-5f, 1500.0f}) {
    const OutputMultiplier m = output_multiplier(scale);
    ASSERT_TRUE(m.valid) << scale;
    for (int i = 0; i < 20000; ++i) {
      const int32_t f = static_cast<int32_t>(rng() % (1u << 26)) - (1 << 25);
      const double exact = f / 65536.0 / static_cast<double>(scale);
      const double frac = exact - std::floor(exact);
      if (std::fabs(frac - 0.5) < 1e-6) continue;  // a tie: either rounding is right
      const double want = std::fmin(127, std::fmax(-128, std::floor(exact + 0.5) + 3));
      ASSERT_EQ(quantise_feature(f, m, 3), want) << "feature " << f << "/65536 at scale " << scale;
    }
  }
}

TEST(AudioFixedMath, OutputScaleOutsideTheSupportedRangeIsRefused) {
  for (float bad : {0.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::denorm_min(), 0x1p-21f, 2048.0f}) {
    EXPECT_FALSE(output_multiplier(bad).valid) << bad;
  }
  EXPECT_TRUE(output_multiplier(0x1p-20f).valid);
  EXPECT_TRUE(output_multiplier(2047.0f).valid);
}

}  // namespace
}  // namespace tinyedge::audio
