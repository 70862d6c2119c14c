// LOGISTIC and TANH int16, HARD_SWISH int8 and SOFTMAX int8 -> int16 on hand-built one-op blobs,
// with params worked out by hand from TFLite Micro's Prepare. Expected values: the exact function
// (computed here in double) within a stated tolerance over the whole input range, plus the values
// TFLite's fixed-point definitions give exactly (the centre, saturation, the identity above +3).
#include <gtest/gtest.h>

#include <cmath>

#include "node_firmware/runtime/kernels/basic_params.h"
#include "tests/runtime/single_op_tem.h"

namespace tinyedge::testing {
namespace {

using runtime::Kernel;
using runtime::Status;
using runtime::TemType;

struct SigmoidParams {
  int32_t input_zero_point, input_range_radius, input_multiplier, input_left_shift;
};
struct HardSwishParams {
  int32_t input_zero_point, output_zero_point;
  int32_t output_multiplier, output_exponent;
  int32_t reluish_multiplier, reluish_exponent;
};

template <class T, class Params>
std::vector<uint8_t> unary_tem(Kernel k, TemType type, size_t n, int32_t in_zp, int32_t out_zp, const Params& p) {
  SingleOpTem b;
  const int in = b.add({type, {static_cast<uint32_t>(n)}, in_zp, {}});
  const int out = b.add({type, {static_cast<uint32_t>(n)}, out_zp, {}});
  b.set_op(k, {in}, {out}, p);
  return b.build();
}

// Runs with the optimised and the reference kernels; both must agree.
template <class Out, class In>
std::vector<Out> run(const std::vector<uint8_t>& tem, const std::vector<In>& input) {
  std::vector<Out> results[2];
  int i = 0;
  for (auto set : {runtime::KernelSet::kOptimized, runtime::KernelSet::kReference}) {
    OpRun r;
    EXPECT_EQ(r.load(tem, set), Status::kOk);
    if (!r.model.loaded()) return {};
    r.set_input(0, input);
    EXPECT_EQ(r.interp.invoke(), Status::kOk);
    results[i++] = r.output<Out>();
  }
  EXPECT_EQ(results[0], results[1]) << "optimised and reference kernels differ";
  return results[1];
}

std::vector<int16_t> every_int16() {
  std::vector<int16_t> v(65536);
  for (int i = 0; i < 65536; ++i) v[i] = static_cast<int16_t>(i - 32768);
  return v;
}

// Largest |got - 32768 * f(x * scale)| over every int16 input.
template <class F>
double worst_error(const std::vector<int16_t>& got, double scale, F f) {
  double worst = 0;
  for (int i = 0; i < 65536; ++i) worst = std::max(worst, std::fabs(got[i] - 32768.0 * f((i - 32768) * scale)));
  return worst;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Input scale 2^-12 is the table's own (TFLite's power-of-two case): multiplier 3, no shift.
constexpr SigmoidParams kPow2Minus12{0, 0, 3, 0};
// Eight times finer steps onto the table: beyond |x| = 5440 the table ends and the output saturates.
constexpr SigmoidParams kSaturating{0, 0, 24, 0};

TEST(LogisticKernel, Int16FollowsTheSigmoidOverTheWholeRange) {
  const auto in = every_int16();
  const auto out =
      run<int16_t>(unary_tem<int16_t>(Kernel::kLogistic, TemType::kInt16, in.size(), 0, 0, kPow2Minus12), in);
  ASSERT_EQ(out.size(), in.size());
  EXPECT_LE(worst_error(out, 1.0 / 4096, sigmoid), 2.0) << "int16 LOGISTIC strays from 32768 * sigmoid(x / 4096)";
  EXPECT_EQ(out[32768], 16384) << "sigmoid(0) is exactly one half";
  for (int i = 1; i < 65536; ++i) ASSERT_LE(out[i - 1], out[i]) << "not monotonic at input " << i - 32768;
}

TEST(LogisticKernel, Int16SaturatesBeyondTheTable) {
  const auto out = run<int16_t>(unary_tem<int16_t>(Kernel::kLogistic, TemType::kInt16, 4, 0, 0, kSaturating),
                                std::vector<int16_t>{5441, 32767, -5441, -32768});
  // TFLite's saturated value is 0x7FFF << 10; mirrored for negative inputs it rounds to 1, not 0.
  EXPECT_EQ(out, (std::vector<int16_t>{32767, 32767, 1, 1}));
}

TEST(TanhKernel, Int16FollowsTanhOverTheWholeRange) {
  const auto in = every_int16();
  const auto out = run<int16_t>(unary_tem<int16_t>(Kernel::kTanh, TemType::kInt16, in.size(), 0, 0, kPow2Minus12), in);
  ASSERT_EQ(out.size(), in.size());
  EXPECT_LE(worst_error(out, 1.0 / 4096, [](double x) { return std::tanh(x); }), 3.0)
      << "int16 TANH strays from 32768 * tanh(x / 4096)";
  EXPECT_EQ(out[32768], 0) << "tanh(0) is exactly 0";
  for (int i = 1; i < 65536; ++i) ASSERT_LE(out[i - 1], out[i]) << "not monotonic at input " << i - 32768;
}

TEST(TanhKernel, Int16SaturatesSymmetrically) {
  const auto out = run<int16_t>(unary_tem<int16_t>(Kernel::kTanh, TemType::kInt16, 4, 0, 0, kSaturating),
                                std::vector<int16_t>{5441, 32767, -5441, -32768});
  EXPECT_EQ(out, (std::vector<int16_t>{32767, 32767, -32767, -32767}));
}

TEST(LogisticKernel, LoaderRefusesInt16ParamsOutsideTheTablesRange) {
  for (const SigmoidParams& p : {SigmoidParams{0, 0, 0, 0}, SigmoidParams{0, 0, 32768, 0}, SigmoidParams{0, 0, 3, 31},
                                 SigmoidParams{0, 0, 3, -1}, SigmoidParams{1, 0, 3, 0}, SigmoidParams{0, 5, 3, 0}}) {
    for (Kernel k : {Kernel::kLogistic, Kernel::kTanh}) {
      OpRun r;
      EXPECT_EQ(r.load(unary_tem<int16_t>(k, TemType::kInt16, 4, 0, 0, p)), Status::kBadParams)
          << "multiplier " << p.input_multiplier << " shift " << p.input_left_shift << " zero point "
          << p.input_zero_point << " radius " << p.input_range_radius;
    }
  }
  OpRun r;  // int16 with a non-zero zero point on the tensors
  EXPECT_EQ(r.load(unary_tem<int16_t>(Kernel::kTanh, TemType::kInt16, 4, 3, 0, kPow2Minus12)),
            Status::kBadQuantization);
}

// Input and output scale 1/16, zero points 0, as TFLite Micro prepares it: hires scale 2^-11;
// output multiplier 2^-7 = 0.5 * 2^-6 -> Q15 16384, exponent -6; reluish multiplier
// 2^-11 / (3 / 32768) = 16/3 = 0.6667 * 2^3 -> Q31 1431655765, rounded to Q15 21845, exponent 3.
constexpr HardSwishParams kSixteenths{0, 0, 16384, -6, 21845, 3};

TEST(HardSwishKernel, Int8FollowsXTimesRelu6OfXPlus3Over6) {
  std::vector<int8_t> in(256);
  for (int i = 0; i < 256; ++i) in[i] = static_cast<int8_t>(i - 128);
  const auto out = run<int8_t>(unary_tem<int8_t>(Kernel::kHardSwish, TemType::kInt8, 256, 0, 0, kSixteenths), in);
  ASSERT_EQ(out.size(), 256u);
  for (int i = 0; i < 256; ++i) {
    const double x = (i - 128) / 16.0;
    const double want = x * std::min(6.0, std::max(0.0, x + 3)) / 6 * 16;
    EXPECT_LE(std::fabs(out[i] - want), 1.0) << "input " << i - 128 << ": got " << int(out[i]) << ", want ~" << want;
    // At or below -3 the reluish factor is exactly 0; at or above +3 it saturates and x comes back.
    if (i - 128 <= -48) {
      EXPECT_EQ(out[i], 0) << "input " << i - 128;
    }
    if (i - 128 >= 48) {
      EXPECT_EQ(out[i], i - 128) << "input " << i - 128;
    }
  }
}

TEST(HardSwishKernel, Int8HonoursZeroPoints) {
  // Zero points -20 in, 10 out: the same function on centred values, shifted by 10.
  const HardSwishParams p{-20, 10, 16384, -6, 21845, 3};
  const auto out = run<int8_t>(unary_tem<int8_t>(Kernel::kHardSwish, TemType::kInt8, 4, -20, 10, p),
                               std::vector<int8_t>{-20, -128, 60, 107});
  EXPECT_EQ(out, (std::vector<int8_t>{10, 10, 90, 127}));
}

TEST(HardSwishKernel, LoaderRefusesBadParams) {
  for (const HardSwishParams& p :
       {HardSwishParams{0, 0, 16384, 1, 21845, 3}, HardSwishParams{0, 0, 16384, -32, 21845, 3},
        HardSwishParams{0, 0, 32768, -6, 21845, 3}, HardSwishParams{0, 0, 16384, -6, -1, 3},
        HardSwishParams{0, 0, 16384, -6, 21845, 31}, HardSwishParams{200, 0, 16384, -6, 21845, 3}}) {
    OpRun r;
    EXPECT_EQ(r.load(unary_tem<int8_t>(Kernel::kHardSwish, TemType::kInt8, 4, 0, 0, p)), Status::kBadParams)
        << "output " << p.output_multiplier << "/" << p.output_exponent << " reluish " << p.reluish_multiplier << "/"
        << p.reluish_exponent;
  }
  OpRun r;  // params' zero point disagrees with the tensor's
  EXPECT_EQ(r.load(unary_tem<int8_t>(Kernel::kHardSwish, TemType::kInt8, 4, 5, 0, kSixteenths)),
            Status::kBadQuantization);
  // int16 is not a HARD_SWISH type in TFLite Micro.
  EXPECT_EQ(r.load(unary_tem<int16_t>(Kernel::kHardSwish, TemType::kInt16, 4, 0, 0, kSixteenths)), Status::kBadIndex);
}

// SOFTMAX int8 -> int16 with input scale 0.1, beta 1, as TFLite prepares it: 0.1 * 2^26 =
// 0.8 * 2^23 -> multiplier round(0.8 * 2^31) = 1717986918, left shift 23; diff_min =
// -floor(31 * 2^26 / 2^23) = -248.
std::vector<uint8_t> softmax_int8_to_int16_tem(std::vector<uint32_t> dims) {
  SingleOpTem b;
  const int in = b.add({TemType::kInt8, dims, 0, {}});
  const int out = b.add({TemType::kInt16, dims, -32768, {}});
  runtime::BasicOpParams p{};
  p.depth_multiplier = 1;
  p.output_offset = -32768;
  p.act_min = -32768;
  p.act_max = 32767;
  p.extra[0] = 1717986918;
  p.extra[1] = 23;
  p.extra[2] = -248;
  b.set_op(Kernel::kSoftmax, {in}, {out}, p);
  return b.build();
}

TEST(SoftmaxKernel, Int8ToInt16MatchesTfliteMicrosGoldenRows) {
  // TFLite Micro's softmax test row, inputs 1..5 quantised at 0.1, and the same row reversed; its
  // published probabilities in 1/65536 steps from -32768.
  const std::vector<int8_t> in{10, 20, 30, 40, 50, 50, 40, 30, 20, 10};
  const auto out = run<int16_t>(softmax_int8_to_int16_tem({2, 5}), in);
  ASSERT_EQ(out.size(), in.size());
  const double golden[5] = {0.011656231, 0.031684921, 0.086128544, 0.234121657, 0.636408647};
  for (int c = 0; c < 5; ++c) {
    EXPECT_NEAR(out[c], golden[c] * 65536 - 32768, 8.0) << "row 0 class " << c;
    EXPECT_NEAR(out[5 + c], golden[4 - c] * 65536 - 32768, 8.0) << "row 1 class " << c;
  }
}

TEST(SoftmaxKernel, Int8ToInt16GivesTheMinimumBelowDiffMin) {
  // 127 - (-128) = 255 > 248: the small input's exp is skipped and its output is exactly -32768.
  const auto out = run<int16_t>(softmax_int8_to_int16_tem({1, 2}), std::vector<int8_t>{-128, 127});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], -32768);
  EXPECT_EQ(out[1], 32767);
}

TEST(SoftmaxKernel, LoaderRefusesAnInt16OutputWithAnotherZeroPoint) {
  SingleOpTem b;
  const int in = b.add({TemType::kInt8, {1, 4}, 0, {}});
  const int out = b.add({TemType::kInt16, {1, 4}, 0, {}});
  runtime::BasicOpParams p{};
  p.extra[0] = 1717986918;
  p.extra[1] = 23;
  p.extra[2] = -248;
  b.set_op(Kernel::kSoftmax, {in}, {out}, p);
  OpRun r;
  EXPECT_EQ(r.load(b.build()), Status::kBadQuantization);
}

}  // namespace
}  // namespace tinyedge::testing
