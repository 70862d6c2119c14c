// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with int16 activations and int8 weights (16x8,
// int64 bias), and TRANSPOSE_CONV int8 and 16x8, against values worked out by hand from TFLite's
// definitions: the 64-bit MultiplyByQuantizedMultiplier reduces the multiplier to 16 bits
// ((m + 2^15) >> 16) and shifts right by 15 - shift with rounding half up.
#include <gtest/gtest.h>

#include "node_firmware/runtime/kernels/basic_params.h"
#include "tests/runtime/single_op_tem.h"

namespace tinyedge::testing {
namespace {

using runtime::BasicOpParams;
using runtime::Kernel;
using runtime::Status;
using runtime::TemType;

constexpr int32_t kHalf = 1 << 30;
constexpr int32_t kRootHalf = 1518500250;  // 0.7071 * 2^31: reduced to 23170

BasicOpParams params_16x8(int32_t act_min = -32768, int32_t act_max = 32767) {
  BasicOpParams p{};
  p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = 1;
  p.depth_multiplier = 1;
  p.act_min = act_min;
  p.act_max = act_max;
  return p;
}

template <class T>
std::vector<T> run(const std::vector<uint8_t>& tem, const std::vector<T>& input, Status expect_load = Status::kOk) {
  std::vector<T> result;
  for (auto set : {runtime::KernelSet::kOptimized, runtime::KernelSet::kReference}) {
    OpRun r;
    EXPECT_EQ(r.load(tem, set), expect_load);
    if (!r.model.loaded()) return {};
    r.set_input(0, input);
    EXPECT_EQ(r.interp.invoke(), Status::kOk);
    const auto out = r.output<T>();
    if (!result.empty()) {
      EXPECT_EQ(out, result) << "optimised and reference sets differ";
    }
    result = out;
  }
  return result;
}

// input int16 [1,1,3,1], filter [1,1,2,1] = {2,-1}, int64 bias {7}: VALID gives
// 100*2 + 200 + 7 = 407 and -400 - 300 + 7 = -693.
std::vector<uint8_t> conv_tem(int32_t multiplier, int32_t shift, TemType bias_type = TemType::kInt64,
                              int32_t input_zp = 0) {
  SingleOpTem b;
  const int in = b.add({TemType::kInt16, {1, 1, 3, 1}, input_zp, {}});
  const int f = b.add({TemType::kInt8, {1, 1, 2, 1}, 0, raw(std::vector<int8_t>{2, -1})});
  const int bias = bias_type == TemType::kInt64 ? b.add({TemType::kInt64, {1}, 0, raw(std::vector<int64_t>{7})})
                                                : b.add({bias_type, {1}, 0, raw(std::vector<int32_t>{7})});
  const int out = b.add({TemType::kInt16, {1, 1, 2, 1}, 0, {}});
  b.set_op(Kernel::kConv2D, {in, f, bias}, {out}, params_16x8(), {multiplier}, {shift});
  return b.build();
}

TEST(Conv16x8Kernel, Int64BiasAndSaturation) {
  EXPECT_EQ(run<int16_t>(conv_tem(kHalf, 1), {100, -200, 300}), (std::vector<int16_t>{407, -693}));
  // x64: 26048 and -44352 -> saturates at -32768.
  EXPECT_EQ(run<int16_t>(conv_tem(kHalf, 7), {100, -200, 300}), (std::vector<int16_t>{26048, -32768}));
  // x0.7071 with the multiplier reduced to 23170/2^15: 407 -> 287.79 -> 288; -693 -> -490.03 -> -490.
  EXPECT_EQ(run<int16_t>(conv_tem(kRootHalf, 0), {100, -200, 300}), (std::vector<int16_t>{288, -490}));
}

TEST(Conv16x8Kernel, Int32BiasUsesThe32BitRequantisation) {
  // 32-bit MultiplyByQuantizedMultiplier keeps the full multiplier: 407 * 0.70710678 = 287.79 -> 288.
  EXPECT_EQ(run<int16_t>(conv_tem(kRootHalf, 0, TemType::kInt32), {100, -200, 300}), (std::vector<int16_t>{288, -490}));
}

TEST(Conv16x8Kernel, LoaderRefusesNonZeroZeroPointsAndLargeShifts) {
  OpRun r;
  EXPECT_EQ(r.load(conv_tem(kHalf, 1, TemType::kInt64, 5)), Status::kBadQuantization);
  EXPECT_EQ(r.load(conv_tem(kHalf, 8)), Status::kBadQuantization);  // 64-bit requantisation: shift <= 7
  EXPECT_EQ(r.load(conv_tem(kHalf, 1, TemType::kInt8)), Status::kBadIndex);
  EXPECT_FALSE(r.model.loaded());
}

TEST(DepthwiseConv16x8Kernel, PerChannelWithMultiplier) {
  // input [1,1,2,1] {1000, -3}, filter [1,1,2,2] depth multiplier 2, VALID -> [1,1,1,2].
  SingleOpTem b;
  const int in = b.add({TemType::kInt16, {1, 1, 2, 1}, 0, {}});
  const int f = b.add({TemType::kInt8, {1, 1, 2, 2}, 0, raw(std::vector<int8_t>{1, 2, 3, -4})});
  const int bias = b.add({TemType::kInt64, {2}, 0, raw(std::vector<int64_t>{-1, 100000})});
  const int out = b.add({TemType::kInt16, {1, 1, 1, 2}, 0, {}});
  BasicOpParams p = params_16x8(-1000, 32767);
  p.depth_multiplier = 2;
  b.set_op(Kernel::kDepthwiseConv2D, {in, f, bias}, {out}, p, {kHalf, kHalf}, {1, -2});
  // ch0: 1000 - 9 - 1 = 990 (x1); ch1: 2000 + 12 + 100000 = 102012 / 8 = 12751.5 -> 12752.
  EXPECT_EQ(run<int16_t>(b.build(), {1000, -3}), (std::vector<int16_t>{990, 12752}));
}

TEST(FullyConnected16x8Kernel, TwoBatchesNoBias) {
  SingleOpTem b;
  const int in = b.add({TemType::kInt16, {2, 3}, 0, {}});
  const int f = b.add({TemType::kInt8, {2, 3}, 0, raw(std::vector<int8_t>{1, 1, 1, 127, -128, 0})});
  const int out = b.add({TemType::kInt16, {2, 2}, 0, {}});
  b.set_op(Kernel::kFullyConnected, {in, f, -1}, {out}, params_16x8(), {kHalf}, {1});
  // batch 0: {1,2,3}: 6, 127 - 256 = -129; batch 1: {32767, 32767, -1}: 65533 -> 32767,
  // 127*32767 - 128*32767 = -32767.
  EXPECT_EQ(run<int16_t>(b.build(), {1, 2, 3, 32767, 32767, -1}), (std::vector<int16_t>{6, -129, 32767, -32767}));
}

struct TransposeConvParams {
  int32_t stride_h, stride_w, pad_top, pad_left, input_offset, output_offset, act_min, act_max;
};

// input [1,2,1,1], filter [1,3,1,1] {1,2,3}, stride 2: TFLite scatters x0 to rows 0..2 and x1 to
// rows 2..4: {x0, 2x0, 3x0 + x1, 2x1, 3x1} (rows from pad_top on).
std::vector<uint8_t> transpose_tem(TemType type, uint32_t out_h, int32_t pad_top, TransposeConvParams p,
                                   bool with_shape = false) {
  SingleOpTem b;
  const int in = b.add({type, {1, 2, 1, 1}, type == TemType::kInt8 ? -p.input_offset : 0, {}});
  const int f = b.add({TemType::kInt8, {1, 3, 1, 1}, 0, raw(std::vector<int8_t>{1, 2, 3})});
  const int bias = type == TemType::kInt8 ? b.add({TemType::kInt32, {1}, 0, raw(std::vector<int32_t>{10})})
                                          : b.add({TemType::kInt64, {1}, 0, raw(std::vector<int64_t>{5})});
  std::vector<int> inputs{in, f, bias};
  if (with_shape) inputs.push_back(b.add({TemType::kInt32, {4}, 0, {}}));  // a graph input, as in SEANet
  const int out = b.add({type, {1, out_h, 1, 1}, p.output_offset, {}});
  p.pad_top = pad_top;
  b.set_op(Kernel::kTransposeConv, inputs, {out}, p, {kHalf}, {1});
  return b.build();
}

TEST(TransposeConvKernel, Int8ScattersWithOffsetsAndBias) {
  // input zp 1 (offset -1): inputs {2, 3} act as {1, 2}: {1, 2, 5, 4, 6} + bias 10 - 3.
  const auto tem = transpose_tem(TemType::kInt8, 5, 0, {2, 2, 0, 0, -1, -3, -128, 127});
  EXPECT_EQ(run<int8_t>(tem, {2, 3}), (std::vector<int8_t>{8, 9, 12, 11, 13}));
  // pad_top 1, three rows: {2, 5, 4} + 7, clamped by a fused activation at 10.
  const auto padded = transpose_tem(TemType::kInt8, 3, 1, {2, 2, 0, 0, -1, -3, -128, 10});
  EXPECT_EQ(run<int8_t>(padded, {2, 3}), (std::vector<int8_t>{9, 10, 10}));
}

TEST(TransposeConvKernel, Int16WithInt64BiasAndShapeInput) {
  const auto tem = transpose_tem(TemType::kInt16, 5, 0, {2, 2, 0, 0, 0, 0, -32768, 32767}, true);
  OpRun r;
  ASSERT_EQ(r.load(tem), Status::kOk);
  ASSERT_EQ(r.model.input_count(), 2);  // the activation and the output-shape tensor
  r.set_input(0, std::vector<int16_t>{1000, 20000});
  r.set_input(1, std::vector<int32_t>{1, 5, 1, 1});
  ASSERT_EQ(r.interp.invoke(), Status::kOk);
  // {1000, 2000, 3000 + 20000, 40000, 60000} + 5, saturating.
  EXPECT_EQ(r.output<int16_t>(), (std::vector<int16_t>{1005, 2005, 23005, 32767, 32767}));
}

TEST(TransposeConvKernel, LoaderRefusesBadParams) {
  OpRun r;
  EXPECT_EQ(r.load(transpose_tem(TemType::kInt8, 5, 0, {0, 2, 0, 0, 0, 0, -128, 127})), Status::kBadParams);
  EXPECT_EQ(r.load(transpose_tem(TemType::kInt8, 5, 3, {2, 2, 0, 0, 0, 0, -128, 127})), Status::kBadParams);
  EXPECT_EQ(r.load(transpose_tem(TemType::kInt16, 5, 0, {2, 2, 0, 0, 0, 4, -32768, 32767})), Status::kBadQuantization);
  EXPECT_EQ(r.load(transpose_tem(TemType::kInt8, 5, 0, {2, 2, 0, 0, 0, 0, 5, -5})), Status::kBadParams);
  EXPECT_FALSE(r.model.loaded());
}

}  // namespace
}  // namespace tinyedge::testing
