// RELU, RELU6 and LEAKY_RELU, int8 and int16, against values worked out by hand from TFLite's
// definitions (MultiplyByQuantizedMultiplier's rounding: SaturatingRoundingDoublingHighMul rounds
// half up, RoundingDivideByPOT half away from zero), and the loader refusing bad params.
#include <gtest/gtest.h>

#include "tests/runtime/single_op_tem.h"

namespace tinyedge::testing {
namespace {

using runtime::Kernel;
using runtime::Status;
using runtime::TemType;

constexpr int32_t kHalf = 1 << 30;  // multiplier 0.5 (times 2^shift)

struct ReluParams {
  int32_t input_zero_point, output_zero_point, act_min, act_max;
};
struct Relu6Params {
  int32_t lower, upper;
};
struct LeakyReluParams {
  int32_t input_zero_point, output_zero_point;
  uint8_t alpha_negative, reserved[3];
};

template <class T, class Params>
std::vector<uint8_t> unary_tem(Kernel k, TemType type, size_t n, int32_t in_zp, int32_t out_zp, const Params& p,
                               std::vector<int32_t> m = {}, std::vector<int32_t> s = {}) {
  SingleOpTem b;
  const int in = b.add({type, {1, static_cast<uint32_t>(n)}, in_zp, {}});
  const int out = b.add({type, {1, static_cast<uint32_t>(n)}, out_zp, {}});
  b.set_op(k, {in}, {out}, p, std::move(m), std::move(s));
  return b.build();
}

template <class T>
std::vector<T> run(const std::vector<uint8_t>& tem, const std::vector<T>& input) {
  std::vector<T> result;
  for (auto set : {runtime::KernelSet::kOptimized, runtime::KernelSet::kReference}) {
    OpRun r;
    EXPECT_EQ(r.load(tem, set), Status::kOk);
    if (!r.model.loaded()) return {};
    r.set_input(0, input);
    EXPECT_EQ(r.interp.invoke(), Status::kOk);
    result = r.output<T>();
  }
  return result;
}

TEST(ReluKernel, Int8RescalesAndClampsAtTheOutputZeroPoint) {
  // input zp -10, output zp 5, scale ratio 0.5: y = 5 + round((x + 10) / 2), at least 5.
  const auto tem =
      unary_tem<int8_t>(Kernel::kRelu, TemType::kInt8, 7, -10, 5, ReluParams{-10, 5, 5, 127}, {kHalf}, {0});
  // -0.5 rounds to 0 and +0.5 to 1 (half up); 137 / 2 = 68.5 -> 69.
  EXPECT_EQ(run<int8_t>(tem, {-128, -11, -10, -9, -8, 0, 127}), (std::vector<int8_t>{5, 5, 5, 6, 6, 10, 74}));
}

TEST(ReluKernel, Int16SaturatesAtTheTypeTop) {
  const auto tem =
      unary_tem<int16_t>(Kernel::kRelu, TemType::kInt16, 5, 0, 0, ReluParams{0, 0, 0, 32767}, {kHalf}, {2});
  EXPECT_EQ(run<int16_t>(tem, {-5, 0, 3, 20000, -32768}), (std::vector<int16_t>{0, 0, 6, 32767, 0}));
}

TEST(ReluKernel, LoaderRefusesBadParams) {
  OpRun r;
  // act_min above act_max, zero point outside int8, int16 with a non-zero zero point, no quant table.
  EXPECT_EQ(r.load(unary_tem<int8_t>(Kernel::kRelu, TemType::kInt8, 4, 0, 0, ReluParams{0, 0, 10, 5}, {kHalf}, {0})),
            Status::kBadParams);
  EXPECT_EQ(r.load(unary_tem<int8_t>(Kernel::kRelu, TemType::kInt8, 4, 0, 0, ReluParams{200, 0, 0, 127}, {kHalf}, {0})),
            Status::kBadParams);
  EXPECT_EQ(
      r.load(unary_tem<int16_t>(Kernel::kRelu, TemType::kInt16, 4, 3, 0, ReluParams{3, 0, 0, 32767}, {kHalf}, {0})),
      Status::kBadQuantization);
  EXPECT_EQ(r.load(unary_tem<int8_t>(Kernel::kRelu, TemType::kInt8, 4, 0, 0, ReluParams{0, 0, 0, 127})),
            Status::kBadQuantization);
  EXPECT_FALSE(r.model.loaded());
}

TEST(Relu6Kernel, ClampsToZeroAndSixInBothTypes) {
  const auto t8 = unary_tem<int8_t>(Kernel::kRelu6, TemType::kInt8, 6, -10, -10, Relu6Params{-10, 50});
  EXPECT_EQ(run<int8_t>(t8, {-128, -10, 0, 50, 51, 127}), (std::vector<int8_t>{-10, -10, 0, 50, 50, 50}));
  const auto t16 = unary_tem<int16_t>(Kernel::kRelu6, TemType::kInt16, 4, 0, 0, Relu6Params{0, 24576});
  EXPECT_EQ(run<int16_t>(t16, {-32768, -1, 24576, 32767}), (std::vector<int16_t>{0, 0, 24576, 24576}));
  OpRun r;
  EXPECT_EQ(r.load(unary_tem<int8_t>(Kernel::kRelu6, TemType::kInt8, 4, 0, 0, Relu6Params{0, 300})),
            Status::kBadParams);
}

TEST(LeakyReluKernel, Int8BothSlopesWithRounding) {
  // input zp -20, output zp 10; identity ratio 1.0, alpha ratio 0.25.
  const auto tem = unary_tem<int8_t>(Kernel::kLeakyRelu, TemType::kInt8, 6, -20, 10, LeakyReluParams{-20, 10, 0, {}},
                                     {kHalf, kHalf}, {1, -1});
  // -108 * 0.25 = -27; -1 * 0.25 -> 0 (the high mul rounds -0.5 up); -2 * 0.25 = -0.5 -> -1 (away
  // from zero); 147 and 120 saturate at 127.
  EXPECT_EQ(run<int8_t>(tem, {-128, -21, -22, -20, 127, 50}), (std::vector<int8_t>{-17, 10, 9, 10, 127, 80}));
}

TEST(LeakyReluKernel, NegativeAlphaFlipsTheSign) {
  const auto tem = unary_tem<int8_t>(Kernel::kLeakyRelu, TemType::kInt8, 2, -20, 10, LeakyReluParams{-20, 10, 1, {}},
                                     {kHalf, kHalf}, {1, -1});
  EXPECT_EQ(run<int8_t>(tem, {-128, 0}), (std::vector<int8_t>{37, 30}));
}

TEST(LeakyReluKernel, Int16) {
  const auto tem = unary_tem<int16_t>(Kernel::kLeakyRelu, TemType::kInt16, 5, 0, 0, LeakyReluParams{0, 0, 0, {}},
                                      {kHalf, kHalf}, {0, -1});
  // -3 * 0.25 = -0.75 -> -1; 3 * 0.5 = 1.5 -> 2.
  EXPECT_EQ(run<int16_t>(tem, {-32768, -3, 0, 3, 32767}), (std::vector<int16_t>{-8192, -1, 0, 2, 16384}));
}

TEST(LeakyReluKernel, LoaderRefusesBadParamsAndTables) {
  OpRun r;
  EXPECT_EQ(r.load(unary_tem<int8_t>(Kernel::kLeakyRelu, TemType::kInt8, 2, 0, 0, LeakyReluParams{0, 0, 2, {}},
                                     {kHalf, kHalf}, {0, 0})),
            Status::kBadParams);
  EXPECT_EQ(r.load(unary_tem<int8_t>(Kernel::kLeakyRelu, TemType::kInt8, 2, 0, 0, LeakyReluParams{0, 0, 0, {}}, {kHalf},
                                     {0})),
            Status::kBadQuantization);
  EXPECT_EQ(r.load(unary_tem<int8_t>(Kernel::kLeakyRelu, TemType::kInt8, 2, 0, 0, LeakyReluParams{0, 0, 0, {}},
                                     {kHalf, -1}, {0, 0})),
            Status::kBadQuantization);
  // Output of another type than the input.
  SingleOpTem b;
  const int in = b.add({TemType::kInt8, {4}, 0, {}});
  const int out = b.add({TemType::kInt16, {4}, 0, {}});
  b.set_op(Kernel::kLeakyRelu, {in}, {out}, LeakyReluParams{}, {kHalf, kHalf}, {0, 0});
  EXPECT_EQ(r.load(b.build()), Status::kBadIndex);
  EXPECT_FALSE(r.model.loaded());
}

struct PreluParams {
  int32_t input_offset, alpha_offset, output_offset;
};

std::vector<uint8_t> prelu_tem(std::vector<uint32_t> alpha_dims, std::vector<int8_t> alpha, PreluParams p) {
  SingleOpTem b;
  const int in = b.add({TemType::kInt8, {1, 1, 3, 2}, -p.input_offset, {}});
  const int a = b.add({TemType::kInt8, alpha_dims, 0, raw(alpha)});  // the params carry the offset
  const int out = b.add({TemType::kInt8, {1, 1, 3, 2}, p.output_offset, {}});
  // identity 1.0; negative side input * alpha / 128.
  b.set_op(Kernel::kPrelu, {in, a}, {out}, p, {kHalf, kHalf}, {1, -6});
  return b.build();
}

TEST(PreluKernel, PerChannelSlopesBroadcastWithRounding) {
  const auto tem = prelu_tem({2}, {64, -32}, PreluParams{10, 0, 3});
  // -118*64/128 = -59; 0; 30; -40*-32/128 = 10; -1*64/128 = -0.5 -> -1 (away from zero); 137 saturates.
  EXPECT_EQ(run<int8_t>(tem, {-128, -10, 20, -50, -11, 127}), (std::vector<int8_t>{-56, 3, 33, 13, 2, 127}));
}

TEST(PreluKernel, LoaderRefusesAlphaThatDoesNotBroadcast) {
  OpRun r;
  EXPECT_EQ(r.load(prelu_tem({3}, {1, 2, 3}, PreluParams{0, 0, 0})), Status::kBadShape);
  EXPECT_EQ(r.load(prelu_tem({2}, {1, 2}, PreluParams{0, 200, 0})), Status::kBadParams);
  EXPECT_FALSE(r.model.loaded());
}

struct SigmoidParams {
  int32_t input_zero_point, input_range_radius, input_multiplier, input_left_shift;
};
// Input scale 1/16, zero point 0, as TFLite prepares it: 2^-4 * 2^27 = 0.5 * 2^24, radius
// floor(15 * 2^27 / 2^24) = 120.
constexpr SigmoidParams kSixteenth{0, 120, 1 << 30, 24};

TEST(LogisticKernel, Int8MatchesTheSigmoidAwayFromRoundingEdgesAndSaturates) {
  const auto tem = unary_tem<int8_t>(Kernel::kLogistic, TemType::kInt8, 8, 0, -128, kSixteenth);
  // 256 * sigmoid(x / 16) - 128: 0 -> 0 (exactly 1/2), 1.0 -> 187.15, -1.0 -> 68.85, 2.0 -> 225.48,
  // 0.5 -> 159.36; 7.4375 rounds to 256 and clamps; +-7.5 hits the radius.
  EXPECT_EQ(run<int8_t>(tem, {0, 16, -16, 32, 8, 119, 120, -120}),
            (std::vector<int8_t>{0, 59, -59, 97, 31, 127, 127, -128}));
  OpRun r;  // output zero point other than -128
  EXPECT_EQ(r.load(unary_tem<int8_t>(Kernel::kLogistic, TemType::kInt8, 8, 0, 0, kSixteenth)),
            Status::kBadQuantization);
}

TEST(TanhKernel, Int8MatchesTanhAwayFromRoundingEdgesAndSaturates) {
  const auto tem = unary_tem<int8_t>(Kernel::kTanh, TemType::kInt8, 8, 0, 0, kSixteenth);
  // 128 * tanh(x / 16): 0, 97.48, -97.48, 123.39, 59.15, 127.99 -> clamps, radius.
  EXPECT_EQ(run<int8_t>(tem, {0, 16, -16, 32, 8, 119, 120, -120}),
            (std::vector<int8_t>{0, 97, -97, 123, 59, 127, 127, -128}));
  OpRun r;  // int8 params on int16 tensors (a radius, a Q31 multiplier): refused, not run wrongly
  EXPECT_EQ(r.load(unary_tem<int16_t>(Kernel::kTanh, TemType::kInt16, 8, 0, 0, kSixteenth)), Status::kBadParams);
}

TEST(L2NormalizationKernel, RowsScaledToUnitLengthInQ7) {
  SingleOpTem b;
  const int in = b.add({TemType::kInt8, {5, 2}, 5, {}});
  const int out = b.add({TemType::kInt8, {5, 2}, 0, {}});
  b.set_op(Kernel::kL2Normalization, {in}, {out}, int32_t{5});
  // Centred rows {3,4} -> 128 * {0.6, 0.8} = {76.8, 102.4}; {0,0} stays 0 (TFLite treats a zero
  // norm as 1); {1,0} -> 128 clamps to 127; {-128+5... } = {-133, 0} -> -128; {5, -5} -> +-90.51.
  EXPECT_EQ(run<int8_t>(b.build(), {8, 9, 5, 5, 6, 5, -128, 5, 10, 0}),
            (std::vector<int8_t>{77, 102, 0, 0, 127, 0, -128, 0, 91, -91}));
  OpRun r;
  SingleOpTem bad;
  const int i2 = bad.add({TemType::kInt8, {2}, 0, {}});
  const int o2 = bad.add({TemType::kInt8, {2}, 3, {}});  // output must be 1/128, zero point 0
  bad.set_op(Kernel::kL2Normalization, {i2}, {o2}, int32_t{0});
  EXPECT_EQ(r.load(bad.build()), Status::kBadQuantization);
}

}  // namespace
}  // namespace tinyedge::testing
