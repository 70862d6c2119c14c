// The arithmetic, data-movement, reduction and conversion kernels on hand-built single-op graphs
// (tem_builder.h), against expectations worked out from TFLite's documented semantics:
// broadcasting, saturation, fused-activation clamps, pad values, permutations, negative strides,
// rounding of MEAN and QUANTIZE. Scales are chosen so the expected values are exact integers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/layout_params.h"
#include "node_firmware/runtime/kernels/reduce.h"
#include "tests/runtime/tem_builder.h"

namespace tinyedge::testing {
namespace {

using runtime::BasicOpParams;
using runtime::Kernel;
using runtime::Status;
using runtime::TemType;

constexpr int32_t kHalf = 1 << 30;  // multiplier 0.5 (with shift s: 0.5 * 2^s)

// ADD/SUB params for scales all equal to one: inputs scaled by 1/2 after the left shift, the
// output by 2 / 2^left_shift, so the result is exactly (a + off_a) +- (b + off_b) + off_out.
BasicOpParams arithmetic_params(bool int16, int32_t off_a = 0, int32_t off_b = 0, int32_t off_out = 0) {
  BasicOpParams p{};
  p.input_offset = off_a;
  p.input2_offset = off_b;
  p.output_offset = off_out;
  p.act_min = int16 ? -32768 : -128;
  p.act_max = int16 ? 32767 : 127;
  p.extra[0] = int16 ? 15 : 20;
  p.extra[1] = kHalf;
  p.extra[2] = 0;
  p.extra[3] = kHalf;
  p.extra[4] = 0;
  return p;
}
std::pair<int32_t, int32_t> arithmetic_output_quant(bool int16) { return {kHalf, int16 ? -13 : -18}; }

template <class T>
std::vector<T> run_binary(Kernel kernel, TemType type, std::vector<uint32_t> da, std::vector<uint32_t> db,
                          std::vector<uint32_t> dout, const std::vector<T>& a, const std::vector<T>& b,
                          const BasicOpParams* params, std::vector<std::pair<int32_t, int32_t>> quant) {
  TemBuilder g;
  const uint16_t ta = g.activation(type, da);
  const uint16_t tb = g.activation(type, db);
  const uint16_t to = g.activation(type, dout);
  if (params) {
    g.op(kernel, {ta, tb}, {to}, *params, quant);
  } else {
    g.op_without_params(kernel, {ta, tb}, {to}, quant);
  }
  g.inputs = {ta, tb};
  g.outputs = {to};
  TemRun run;
  EXPECT_EQ(run.load(g.build()), Status::kOk);
  if (!run.model.loaded()) return {};
  run.set_input(0, a);
  run.set_input(1, b);
  EXPECT_EQ(run.interp.invoke(), Status::kOk);
  return run.output<T>();
}

TEST(ArithmeticKernels, AddInt8BroadcastsRowsAndSaturates) {
  // a [2,3] + b [3] (b repeats on each row), zero points -3, 5 and 2: a + b exactly, clamped.
  const BasicOpParams p = arithmetic_params(false, 3, -5, 2);
  const std::vector<int8_t> a = {1, 2, 3, 100, -100, -128};
  const std::vector<int8_t> b = {10, 120, -50};
  const auto out =
      run_binary<int8_t>(Kernel::kAdd, TemType::kInt8, {2, 3}, {3}, {2, 3}, a, b, &p, {arithmetic_output_quant(false)});
  EXPECT_EQ(out, (std::vector<int8_t>{11, 122, -47, 110, 20, -128}));
}

TEST(ArithmeticKernels, AddInt8BroadcastsBothWaysWithFusedRelu6Range) {
  // a [2,1] + b [1,3] -> [2,3]; activation range [0, 6] (RELU6 at scale 1, zero point 0).
  BasicOpParams p = arithmetic_params(false);
  p.act_min = 0;
  p.act_max = 6;
  const auto out = run_binary<int8_t>(Kernel::kAdd, TemType::kInt8, {2, 1}, {1, 3}, {2, 3}, std::vector<int8_t>{1, -2},
                                      std::vector<int8_t>{0, 3, 9}, &p, {arithmetic_output_quant(false)});
  EXPECT_EQ(out, (std::vector<int8_t>{1, 4, 6, 0, 1, 6}));
}

TEST(ArithmeticKernels, AddInt16SaturatesAtInt16Range) {
  const BasicOpParams p = arithmetic_params(true);
  const std::vector<int16_t> a = {1000, 30000, -30000, 7, -1, 32767};
  const std::vector<int16_t> b = {-1000, 5000, -5000, 8, 1, 0};
  const auto out = run_binary<int16_t>(Kernel::kAdd, TemType::kInt16, {1, 1, 2, 3}, {1, 1, 2, 3}, {1, 1, 2, 3}, a, b,
                                       &p, {arithmetic_output_quant(true)});
  EXPECT_EQ(out, (std::vector<int16_t>{0, 32767, -32768, 15, 0, 32767}));
}

TEST(ArithmeticKernels, AddInt16BroadcastsAScalar) {
  const BasicOpParams p = arithmetic_params(true);
  const auto out =
      run_binary<int16_t>(Kernel::kAdd, TemType::kInt16, {4}, {}, {4}, std::vector<int16_t>{1, 2, 3, 32760},
                          std::vector<int16_t>{100}, &p, {arithmetic_output_quant(true)});
  EXPECT_EQ(out, (std::vector<int16_t>{101, 102, 103, 32767}));
}

TEST(ArithmeticKernels, SubBroadcastsAndSaturates) {
  const BasicOpParams p = arithmetic_params(false, 0, 0, -1);
  const auto out =
      run_binary<int8_t>(Kernel::kSub, TemType::kInt8, {2, 1}, {1, 3}, {2, 3}, std::vector<int8_t>{10, -100},
                         std::vector<int8_t>{1, -120, 50}, &p, {arithmetic_output_quant(false)});
  // 10-1-1, 10+120-1 (saturates), 10-50-1; -100-1-1, -100+120-1, -100-50-1 (saturates)
  EXPECT_EQ(out, (std::vector<int8_t>{8, 127, -41, -102, 19, -128}));
  const BasicOpParams p16 = arithmetic_params(true);
  const auto out16 =
      run_binary<int16_t>(Kernel::kSub, TemType::kInt16, {3}, {3}, {3}, std::vector<int16_t>{-30000, 5, 0},
                          std::vector<int16_t>{10000, 10, -32768}, &p16, {arithmetic_output_quant(true)});
  EXPECT_EQ(out16, (std::vector<int16_t>{-32768, -5, 32767}));
}

TEST(ArithmeticKernels, MulInt8WithOffsetsAndHalvingMultiplier) {
  // Multiplier 1.0 (2^30, shift 1): (a + 1) * (b - 2) + 3, clamped.
  BasicOpParams p = arithmetic_params(false, 1, -2, 3);
  auto out = run_binary<int8_t>(Kernel::kMul, TemType::kInt8, {2, 2}, {2}, {2, 2}, std::vector<int8_t>{3, -5, 20, 0},
                                std::vector<int8_t>{4, 10}, &p, {{kHalf, 1}});
  EXPECT_EQ(out, (std::vector<int8_t>{11, -29, 45, 11}));
  // Multiplier 0.25 (2^30, shift -1) rounds: 6*5/4 = 7.5 -> 8, 2*3/4 = 1.5 -> 2, 127*127/4 saturates.
  p = arithmetic_params(false);
  out = run_binary<int8_t>(Kernel::kMul, TemType::kInt8, {3}, {3}, {3}, std::vector<int8_t>{6, 2, 127},
                           std::vector<int8_t>{5, 3, 127}, &p, {{kHalf, -1}});
  EXPECT_EQ(out, (std::vector<int8_t>{8, 2, 127}));
}

TEST(ArithmeticKernels, MulInt16) {
  const BasicOpParams p = arithmetic_params(true);
  const auto out = run_binary<int16_t>(Kernel::kMul, TemType::kInt16, {3}, {1}, {3}, std::vector<int16_t>{300, -300, 7},
                                       std::vector<int16_t>{200}, &p, {{kHalf, 1}});
  EXPECT_EQ(out, (std::vector<int16_t>{32767, -32768, 1400}));
}

TEST(ArithmeticKernels, MinimumAndMaximumBroadcast) {
  const std::vector<int8_t> a = {-5, 0, 5, 100, -128, 7};
  const std::vector<int8_t> b = {1, -1};
  EXPECT_EQ(run_binary<int8_t>(Kernel::kMinimum, TemType::kInt8, {3, 2}, {2}, {3, 2}, a, b, nullptr, {}),
            (std::vector<int8_t>{-5, -1, 1, -1, -128, -1}));
  EXPECT_EQ(run_binary<int8_t>(Kernel::kMaximum, TemType::kInt8, {3, 2}, {2}, {3, 2}, a, b, nullptr, {}),
            (std::vector<int8_t>{1, 0, 5, 100, 1, 7}));
  EXPECT_EQ(run_binary<int16_t>(Kernel::kMaximum, TemType::kInt16, {3}, {}, {3},
                                std::vector<int16_t>{-30000, 300, 30000}, std::vector<int16_t>{299}, nullptr, {}),
            (std::vector<int16_t>{299, 300, 30000}));
}

TEST(ArithmeticKernels, DivInt8RoundsSaturatesAndDefinesZeroDivisors) {
  // Scales all 1 (multiplier 1.0): a / b rounded; b = 0 gives the clamp bound of a's sign.
  BasicOpParams p = arithmetic_params(false);
  auto out = run_binary<int8_t>(Kernel::kDiv, TemType::kInt8, {8}, {8}, {8},
                                std::vector<int8_t>{10, -10, 100, 127, 5, -5, 0, 9},
                                std::vector<int8_t>{3, 3, 7, -1, 0, 0, 0, -4}, &p, {{kHalf, 1}});
  EXPECT_EQ(out, (std::vector<int8_t>{3, -3, 14, -127, 127, -128, 0, -2}));
  // Multiplier 2.0 (shift 2) with a divisor broadcast: 100 / 1 * 2 saturates.
  out = run_binary<int8_t>(Kernel::kDiv, TemType::kInt8, {3}, {1}, {3}, std::vector<int8_t>{100, -3, 20},
                           std::vector<int8_t>{1}, &p, {{kHalf, 2}});
  EXPECT_EQ(out, (std::vector<int8_t>{127, -6, 40}));
}

TEST(ArithmeticKernels, OptimisedAddAndSubMatchReferenceOnRandomScales) {
  // Random multipliers and shifts (as the compiler would emit for scale ratios up to 2^-20),
  // offsets, clamps and broadcast shapes; int8 and int16; every input value.
  std::mt19937 rng(7);
  auto uniform = [&](int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<uint32_t>(hi - lo + 1)); };
  for (int trial = 0; trial < 200; ++trial) {
    const bool int16 = trial % 2 == 1;
    const Kernel kernel = trial % 4 < 2 ? Kernel::kAdd : Kernel::kSub;
    const TemType type = int16 ? TemType::kInt16 : TemType::kInt8;
    BasicOpParams p = arithmetic_params(int16, int16 ? 0 : uniform(-127, 128), int16 ? 0 : uniform(-127, 128),
                                        int16 ? 0 : uniform(-128, 127));
    p.extra[1] = (1 << 30) + uniform(0, (1 << 30) - 1);
    p.extra[2] = -uniform(0, 3);
    p.extra[3] = (1 << 30) + uniform(0, (1 << 30) - 1);
    p.extra[4] = -uniform(0, 3);
    const std::pair<int32_t, int32_t> out_q{(1 << 30) + uniform(0, (1 << 30) - 1), -uniform(int16 ? 10 : 15, 22)};
    const uint32_t n = static_cast<uint32_t>(uniform(1, 9));
    TemBuilder g;
    const uint16_t a = g.activation(type, {2, n});
    const uint16_t b = g.activation(type, {n});
    const uint16_t o = g.activation(type, {2, n});
    g.op(kernel, {a, b}, {o}, p, {out_q});
    g.inputs = {a, b};
    g.outputs = {o};
    TemRun fast, ref;
    ASSERT_EQ(fast.load(g.build()), Status::kOk);
    ASSERT_EQ(ref.load(g.build()), Status::kOk);
    ref.interp.set_kernel_set(runtime::KernelSet::kReference);
    for (TemRun* r : {&fast, &ref}) {
      auto in_a = r->interp.input(0);
      auto in_b = r->interp.input(1);
      std::mt19937 values(static_cast<uint32_t>(trial));
      for (auto& v : in_a) v = static_cast<int8_t>(values());
      for (auto& v : in_b) v = static_cast<int8_t>(values());
      ASSERT_EQ(r->interp.invoke(), Status::kOk);
    }
    const auto x = fast.output<uint8_t>();
    const auto y = ref.output<uint8_t>();
    ASSERT_EQ(x, y) << "trial " << trial << (int16 ? " int16" : " int8");
  }
}

// --- data movement ---

template <class T, class Params>
std::vector<T> run_unary(Kernel kernel, TemType in_type, std::vector<uint32_t> din, TemType out_type,
                         std::vector<uint32_t> dout, const std::vector<T>& in, const Params& params,
                         std::vector<std::pair<int32_t, int32_t>> quant = {}, int32_t zp = 0) {
  TemBuilder g;
  const uint16_t ti = g.activation(in_type, din, zp);
  const uint16_t to = g.activation(out_type, dout, zp);
  g.op(kernel, {ti}, {to}, params, quant);
  g.inputs = {ti};
  g.outputs = {to};
  TemRun run;
  EXPECT_EQ(run.load(g.build()), Status::kOk);
  if (!run.model.loaded()) return {};
  run.set_input(0, in);
  EXPECT_EQ(run.interp.invoke(), Status::kOk);
  return run.output<T>();
}

TEST(DataKernels, PadFillsWithThePadValue) {
  // [1,2,2,1] padded 1 before H and W, 1 after H, 2 after W -> [1,4,5,1], pad value -3.
  runtime::PadParams p{};
  p.before[1] = 1;
  p.before[2] = 1;
  p.pad_value = -3;
  const auto out = run_unary<int8_t>(Kernel::kPad, TemType::kInt8, {1, 2, 2, 1}, TemType::kInt8, {1, 4, 5, 1},
                                     std::vector<int8_t>{1, 2, 3, 4}, p, {}, -3);
  EXPECT_EQ(out, (std::vector<int8_t>{-3, -3, -3, -3, -3,  //
                                      -3, 1,  2,  -3, -3,  //
                                      -3, 3,  4,  -3, -3,  //
                                      -3, -3, -3, -3, -3}));
}

TEST(DataKernels, PadInt16AlongChannelsAndRank5) {
  runtime::PadParams p{};
  p.before[1] = 2;
  p.pad_value = -300;
  EXPECT_EQ(run_unary<int16_t>(Kernel::kPad, TemType::kInt16, {2, 1}, TemType::kInt16, {2, 4},
                               std::vector<int16_t>{1000, -1000}, p),
            (std::vector<int16_t>{-300, -300, 1000, -300, -300, -300, -1000, -300}));
  runtime::PadParams q{};
  q.before[4] = 1;
  q.pad_value = 9;
  EXPECT_EQ(run_unary<int8_t>(Kernel::kPad, TemType::kInt8, {1, 1, 1, 2, 1}, TemType::kInt8, {1, 1, 1, 2, 2},
                              std::vector<int8_t>{5, 6}, q),
            (std::vector<int8_t>{9, 5, 9, 6}));
}

TEST(DataKernels, TransposeNchwToNhwc) {
  // [1,2,3,4] -> [1,3,4,2] with perm {0,2,3,1}: out[0,h,w,c] = in[0,c,h,w].
  std::vector<int8_t> in(24);
  for (int i = 0; i < 24; ++i) in[i] = static_cast<int8_t>(i);
  runtime::TransposeParams p{};
  const uint8_t perm[6] = {0, 2, 3, 1, 4, 5};
  std::memcpy(p.perm, perm, 6);
  const auto out =
      run_unary<int8_t>(Kernel::kTranspose, TemType::kInt8, {1, 2, 3, 4}, TemType::kInt8, {1, 3, 4, 2}, in, p);
  std::vector<int8_t> expected;
  for (int h = 0; h < 3; ++h)
    for (int w = 0; w < 4; ++w)
      for (int c = 0; c < 2; ++c) expected.push_back(static_cast<int8_t>(c * 12 + h * 4 + w));
  EXPECT_EQ(out, expected);
}

TEST(DataKernels, TransposeInt16Matrix) {
  runtime::TransposeParams p{};
  const uint8_t perm[6] = {1, 0, 2, 3, 4, 5};
  std::memcpy(p.perm, perm, 6);
  EXPECT_EQ(run_unary<int16_t>(Kernel::kTranspose, TemType::kInt16, {2, 3}, TemType::kInt16, {3, 2},
                               std::vector<int16_t>{1, 2, 3, 4, 5, 6}, p),
            (std::vector<int16_t>{1, 4, 2, 5, 3, 6}));
}

TEST(DataKernels, TransposeAndPadTakeConstantInputs) {
  // The compiler lowers TRANSPOSE/PAD of constant data (it does not fold them): both read the blob.
  TemBuilder g;
  const uint16_t unused = g.activation(TemType::kInt8, {1});
  const uint16_t c = g.constant_of<int8_t>(TemType::kInt8, {2, 2}, {1, 2, 3, 4});
  const uint16_t t = g.activation(TemType::kInt8, {2, 2});
  const uint16_t padded = g.activation(TemType::kInt8, {2, 3});
  runtime::TransposeParams tp{{1, 0, 2, 3, 4, 5}, {0, 0}};
  g.op(Kernel::kTranspose, {c}, {t}, tp);
  runtime::PadParams pp{};
  pp.before[1] = 1;
  pp.pad_value = -7;
  g.op(Kernel::kPad, {c}, {padded}, pp);
  g.inputs = {unused};
  g.outputs = {t, padded};
  TemRun run;
  ASSERT_EQ(run.load(g.build()), Status::kOk);
  ASSERT_EQ(run.interp.invoke(), Status::kOk);
  EXPECT_EQ(run.output<int8_t>(0), (std::vector<int8_t>{1, 3, 2, 4}));
  EXPECT_EQ(run.output<int8_t>(1), (std::vector<int8_t>{-7, 1, 2, -7, 3, 4}));
}

TEST(DataKernels, StridedSliceWithNegativeStride) {
  // in [3,4]; rows 2,0 (begin 2, stride -2), columns 1..3 -> [2,3].
  runtime::SliceParams p{};
  for (int d = 0; d < 6; ++d) p.stride[d] = p.count[d] = 1;
  p.begin[0] = 2;
  p.stride[0] = -2;
  p.count[0] = 2;
  p.begin[1] = 1;
  p.count[1] = 3;
  std::vector<int8_t> in(12);
  for (int i = 0; i < 12; ++i) in[i] = static_cast<int8_t>(i);
  EXPECT_EQ(run_unary<int8_t>(Kernel::kStridedSlice, TemType::kInt8, {3, 4}, TemType::kInt8, {2, 3}, in, p),
            (std::vector<int8_t>{9, 10, 11, 1, 2, 3}));
  // shrink_axis: one row of it as a rank-1 output.
  p.count[0] = 1;
  EXPECT_EQ(run_unary<int8_t>(Kernel::kStridedSlice, TemType::kInt8, {3, 4}, TemType::kInt8, {3}, in, p),
            (std::vector<int8_t>{9, 10, 11}));
}

TEST(DataKernels, ConcatenationMixesActivationsAndConstants) {
  // [2,1] ++ [2,2] ++ constant [2,1] along axis 1 -> [2,4].
  TemBuilder g;
  const uint16_t a = g.activation(TemType::kInt8, {2, 1});
  const uint16_t b = g.activation(TemType::kInt8, {2, 2});
  const uint16_t c = g.constant_of<int8_t>(TemType::kInt8, {2, 1}, {70, 80});
  const uint16_t out = g.activation(TemType::kInt8, {2, 4});
  g.op(Kernel::kConcatenation, {a, b, c}, {out}, runtime::JoinParams{1, 0});
  g.inputs = {a, b};
  g.outputs = {out};
  TemRun run;
  ASSERT_EQ(run.load(g.build()), Status::kOk);
  run.set_input(0, std::vector<int8_t>{1, 2});
  run.set_input(1, std::vector<int8_t>{10, 11, 20, 21});
  ASSERT_EQ(run.interp.invoke(), Status::kOk);
  EXPECT_EQ(run.output<int8_t>(), (std::vector<int8_t>{1, 10, 11, 70, 2, 20, 21, 80}));
}

TEST(DataKernels, PackStacksAlongANewAxis) {
  // Two int16 [3] packed on axis 1 -> [3,2].
  TemBuilder g;
  const uint16_t a = g.activation(TemType::kInt16, {3});
  const uint16_t b = g.activation(TemType::kInt16, {3});
  const uint16_t out = g.activation(TemType::kInt16, {3, 2});
  g.op(Kernel::kConcatenation, {a, b}, {out}, runtime::JoinParams{1, 1});
  g.inputs = {a, b};
  g.outputs = {out};
  TemRun run;
  ASSERT_EQ(run.load(g.build()), Status::kOk);
  run.set_input(0, std::vector<int16_t>{1, 2, 3});
  run.set_input(1, std::vector<int16_t>{-1, -2, -3});
  ASSERT_EQ(run.interp.invoke(), Status::kOk);
  EXPECT_EQ(run.output<int16_t>(), (std::vector<int16_t>{1, -1, 2, -2, 3, -3}));
}

TEST(DataKernels, SplitVAndUnpack) {
  // [2,5] split along axis 1 into 2 and 3 columns (SPLIT_V).
  TemBuilder g;
  const uint16_t in = g.activation(TemType::kInt8, {2, 5});
  const uint16_t a = g.activation(TemType::kInt8, {2, 2});
  const uint16_t b = g.activation(TemType::kInt8, {2, 3});
  g.op(Kernel::kSplit, {in}, {a, b}, runtime::JoinParams{1, 0});
  g.inputs = {in};
  g.outputs = {a, b};
  TemRun run;
  ASSERT_EQ(run.load(g.build()), Status::kOk);
  run.set_input(0, std::vector<int8_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  ASSERT_EQ(run.interp.invoke(), Status::kOk);
  EXPECT_EQ(run.output<int8_t>(0), (std::vector<int8_t>{0, 1, 5, 6}));
  EXPECT_EQ(run.output<int8_t>(1), (std::vector<int8_t>{2, 3, 4, 7, 8, 9}));
  // UNPACK [2,3] along axis 1 -> three [2].
  TemBuilder u;
  const uint16_t uin = u.activation(TemType::kInt8, {2, 3});
  const uint16_t o0 = u.activation(TemType::kInt8, {2});
  const uint16_t o1 = u.activation(TemType::kInt8, {2});
  const uint16_t o2 = u.activation(TemType::kInt8, {2});
  u.op(Kernel::kSplit, {uin}, {o0, o1, o2}, runtime::JoinParams{1, 1});
  u.inputs = {uin};
  u.outputs = {o0, o1, o2};
  TemRun urun;
  ASSERT_EQ(urun.load(u.build()), Status::kOk);
  urun.set_input(0, std::vector<int8_t>{1, 2, 3, 4, 5, 6});
  ASSERT_EQ(urun.interp.invoke(), Status::kOk);
  EXPECT_EQ(urun.output<int8_t>(0), (std::vector<int8_t>{1, 4}));
  EXPECT_EQ(urun.output<int8_t>(1), (std::vector<int8_t>{2, 5}));
  EXPECT_EQ(urun.output<int8_t>(2), (std::vector<int8_t>{3, 6}));
}

TEST(DataKernels, ReshapeCarriesInt16AndRank6) {
  EXPECT_EQ(run_unary<int16_t>(Kernel::kReshape, TemType::kInt16, {2, 3}, TemType::kInt16, {1, 1, 2, 1, 3, 1},
                               std::vector<int16_t>{1, -2, 3, -4, 5, -6}, BasicOpParams{}),
            (std::vector<int16_t>{1, -2, 3, -4, 5, -6}));
}

TEST(DataKernels, GatherWithConstantAndRuntimeIndices) {
  // data [3,2] rows picked by constant indices {2,0,2} along axis 0 -> [3,2].
  TemBuilder g;
  const uint16_t data = g.activation(TemType::kInt8, {3, 2});
  const uint16_t idx = g.constant_of<int32_t>(TemType::kInt32, {3}, {2, 0, 2});
  const uint16_t out = g.activation(TemType::kInt8, {3, 2});
  g.op(Kernel::kGather, {data, idx}, {out}, runtime::GatherParams{0, 0});
  g.inputs = {data};
  g.outputs = {out};
  TemRun run;
  ASSERT_EQ(run.load(g.build()), Status::kOk);
  run.set_input(0, std::vector<int8_t>{1, 2, 3, 4, 5, 6});
  ASSERT_EQ(run.interp.invoke(), Status::kOk);
  EXPECT_EQ(run.output<int8_t>(), (std::vector<int8_t>{5, 6, 1, 2, 5, 6}));
  // int16 data [2,3] gathered along axis 1 by run-time indices {1, 7 (outside: zeroed)} -> [2,2].
  TemBuilder h;
  const uint16_t d16 = h.activation(TemType::kInt16, {2, 3});
  const uint16_t i32 = h.activation(TemType::kInt32, {2});
  const uint16_t o16 = h.activation(TemType::kInt16, {2, 2});
  h.op(Kernel::kGather, {d16, i32}, {o16}, runtime::GatherParams{1, 0});
  h.inputs = {d16, i32};
  h.outputs = {o16};
  TemRun hrun;
  ASSERT_EQ(hrun.load(h.build()), Status::kOk);
  hrun.set_input(0, std::vector<int16_t>{10, 11, 12, 20, 21, 22});
  hrun.set_input(1, std::vector<int32_t>{1, 7});
  ASSERT_EQ(hrun.interp.invoke(), Status::kOk);
  EXPECT_EQ(hrun.output<int16_t>(), (std::vector<int16_t>{11, 0, 21, 0}));
}

// --- reductions ---

runtime::ReduceParams reduce_params(std::vector<int> axes, int32_t in_zp = 0, int32_t out_zp = 0) {
  runtime::ReduceParams p{};
  for (int a : axes) p.reduced[a] = 1;
  p.input_zero_point = in_zp;
  p.output_zero_point = out_zp;
  return p;
}

TEST(ReduceKernels, MeanOverHeightAndWidthRoundsHalfUp) {
  // [1,2,2,2] mean over axes 1,2 (keep_dims), scales equal, zero point -1: TFLite's multiplier
  // 1.0 = (2^30, 1) with 1/4 folded in: (2^30 << 2) / 4 = 2^30, shift 1 - 2 = -1.
  // Channel 0: 1+2+3+5 = 11, +4 (zero point) -> 15/4 = 3.75 -> 4, -1 -> 3.
  // Channel 1: -10-9-9-9 = -37 +4 = -33/4 = -8.25 -> -8, -1 -> -9.
  const std::vector<int8_t> in = {1, -10, 2, -9, 3, -9, 5, -9};
  EXPECT_EQ(run_unary<int8_t>(Kernel::kMean, TemType::kInt8, {1, 2, 2, 2}, TemType::kInt8, {1, 1, 1, 2}, in,
                              reduce_params({1, 2}, -1, -1), {{kHalf, -1}}, -1),
            (std::vector<int8_t>{3, -9}));
  // Exact halves: (1+2)/2 = 1.5 -> 2, (-1-2)/2 = -1.5 -> -1 (TFLite's rounding of a negative half
  // in the doubling high multiply goes up); keep_dims false.
  EXPECT_EQ(run_unary<int8_t>(Kernel::kMean, TemType::kInt8, {2, 2}, TemType::kInt8, {2},
                              std::vector<int8_t>{1, 2, -1, -2}, reduce_params({1}), {{kHalf, 0}}),
            (std::vector<int8_t>{2, -1}));
}

TEST(ReduceKernels, SumSaturatesAndInt16Works) {
  // SUM (lowered to the MEAN kernel with multiplier 1.0): 100 + 100 saturates.
  EXPECT_EQ(run_unary<int8_t>(Kernel::kMean, TemType::kInt8, {2, 2}, TemType::kInt8, {2, 1},
                              std::vector<int8_t>{100, 100, -3, 4}, reduce_params({1}), {{kHalf, 1}}),
            (std::vector<int8_t>{127, 1}));
  EXPECT_EQ(run_unary<int16_t>(Kernel::kMean, TemType::kInt16, {3, 2}, TemType::kInt16, {2},
                               std::vector<int16_t>{30000, 1, 30000, 2, -30000, 3}, reduce_params({0}), {{kHalf, 1}}),
            (std::vector<int16_t>{30000, 6}));
}

TEST(ReduceKernels, ReduceMaxOverMiddleAxis) {
  const std::vector<int8_t> in = {1, 9, -5, 3, 7, -128, -2, -3, -1, -4, -128, -128};  // [2,3,2]
  EXPECT_EQ(
      run_unary<int8_t>(Kernel::kReduceMax, TemType::kInt8, {2, 3, 2}, TemType::kInt8, {2, 2}, in, reduce_params({1})),
      (std::vector<int8_t>{7, 9, -1, -3}));
}

// --- conversions ---

TEST(ConvertKernels, QuantizeFloatRoundsHalfAwayAndSaturates) {
  runtime::ConvertParams p{0.5f, -128, 0};
  // x / 0.5 rounded half away from zero, + (-128), clamped.
  const std::vector<float> in = {0.0f, 1.25f, -1.25f, 127.6f, 1000.0f, -1000.0f};
  TemBuilder g;
  const uint16_t ti = g.activation(TemType::kFloat32, {6});
  const uint16_t to = g.activation(TemType::kInt8, {6}, -128, 0.5f);
  g.op(Kernel::kQuantize, {ti}, {to}, p);
  g.inputs = {ti};
  g.outputs = {to};
  TemRun run;
  ASSERT_EQ(run.load(g.build()), Status::kOk);
  run.set_input(0, in);
  ASSERT_EQ(run.interp.invoke(), Status::kOk);
  EXPECT_EQ(run.output<int8_t>(), (std::vector<int8_t>{-128, -125, -128, 127, 127, -128}));
}

TEST(ConvertKernels, RequantiseInt8ToInt8AndInt16) {
  // int8 zp 10 -> int8 zp -5 at twice the scale (multiplier 0.5 = 2^30, shift 0).
  runtime::ConvertParams p{0.0f, -5, 10};
  EXPECT_EQ(run_unary<int8_t>(Kernel::kQuantize, TemType::kInt8, {4}, TemType::kInt8, {4},
                              std::vector<int8_t>{10, 13, -128, 127}, p, {{kHalf, 0}}),
            (std::vector<int8_t>{-5, -3, -74, 54}));
  // int8 -> int16 zp 0 at 1/256 the scale (multiplier 256 = 2^30, shift 9).
  TemBuilder g;
  const uint16_t ti = g.activation(TemType::kInt8, {3});
  const uint16_t to = g.activation(TemType::kInt16, {3});
  g.op(Kernel::kQuantize, {ti}, {to}, runtime::ConvertParams{0.0f, 0, 0}, {{kHalf, 9}});
  g.inputs = {ti};
  g.outputs = {to};
  TemRun run;
  ASSERT_EQ(run.load(g.build()), Status::kOk);
  run.set_input(0, std::vector<int8_t>{1, -128, 127});
  ASSERT_EQ(run.interp.invoke(), Status::kOk);
  EXPECT_EQ(run.output<int16_t>(), (std::vector<int16_t>{256, -32768, 32512}));
}

TEST(ConvertKernels, DequantizeInt8AndInt16ToFloat) {
  TemBuilder g;
  const uint16_t ti = g.activation(TemType::kInt8, {3}, -128);
  const uint16_t to = g.activation(TemType::kFloat32, {3});
  g.op(Kernel::kDequantize, {ti}, {to}, runtime::ConvertParams{0.1f, -128, 0});
  g.inputs = {ti};
  g.outputs = {to};
  TemRun run;
  ASSERT_EQ(run.load(g.build()), Status::kOk);
  run.set_input(0, std::vector<int8_t>{-128, 0, 127});
  ASSERT_EQ(run.interp.invoke(), Status::kOk);
  const auto out = run.output<float>();
  // (x - zp) * scale in double, then to float: exactly what static_cast<float>(double) gives.
  EXPECT_EQ(out, (std::vector<float>{0.0f, static_cast<float>(0.1f * 128.0), static_cast<float>(0.1f * 255.0)}));
}

TEST(ConvertKernels, CastWrapsIntegersTruncatesFloats) {
  TemBuilder g;
  const uint16_t ti = g.activation(TemType::kInt32, {4});
  const uint16_t to = g.activation(TemType::kInt8, {4});
  g.op_without_params(Kernel::kCast, {ti}, {to});
  g.inputs = {ti};
  g.outputs = {to};
  TemRun run;
  ASSERT_EQ(run.load(g.build()), Status::kOk);
  run.set_input(0, std::vector<int32_t>{1, 200, -129, 256});
  ASSERT_EQ(run.interp.invoke(), Status::kOk);
  EXPECT_EQ(run.output<int8_t>(), (std::vector<int8_t>{1, -56, 127, 0}));

  TemBuilder f;
  const uint16_t fi = f.activation(TemType::kFloat32, {4});
  const uint16_t fo = f.activation(TemType::kInt16, {4});
  f.op_without_params(Kernel::kCast, {fi}, {fo});
  f.inputs = {fi};
  f.outputs = {fo};
  TemRun frun;
  ASSERT_EQ(frun.load(f.build()), Status::kOk);
  frun.set_input(0, std::vector<float>{2.9f, -2.9f, 1e9f, -1e9f});
  ASSERT_EQ(frun.interp.invoke(), Status::kOk);
  EXPECT_EQ(frun.output<int16_t>(), (std::vector<int16_t>{2, -2, 32767, -32768}));
}

}  // namespace
}  // namespace tinyedge::testing
