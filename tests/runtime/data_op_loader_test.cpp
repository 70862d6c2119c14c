// The loader refuses a .tem whose data-movement, arithmetic, reduction or conversion op has
// params, shapes, types or quantisation its kernel cannot run (and so never runs it out of
// bounds): each case starts from a graph that loads and changes one thing.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

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

Status load(const TemBuilder& g) {
  TemRun run;
  return run.load(g.build());
}

// One-input, one-output graph with the given shapes and params.
template <class Params>
TemBuilder unary(Kernel k, TemType tin, std::vector<uint32_t> din, TemType tout, std::vector<uint32_t> dout,
                 const Params& p, std::vector<std::pair<int32_t, int32_t>> quant = {}, int32_t out_zp = 0) {
  TemBuilder g;
  const uint16_t i = g.activation(tin, din);
  const uint16_t o = g.activation(tout, dout, out_zp);
  g.op(k, {i}, {o}, p, quant);
  g.inputs = {i};
  g.outputs = {o};
  return g;
}

BasicOpParams add_params(bool int16) {
  BasicOpParams p{};
  p.act_min = int16 ? -32768 : -128;
  p.act_max = int16 ? 32767 : 127;
  p.extra[0] = int16 ? 15 : 20;
  p.extra[1] = p.extra[3] = 1 << 30;
  return p;
}

TemBuilder binary(Kernel k, TemType t, std::vector<uint32_t> da, std::vector<uint32_t> db, std::vector<uint32_t> dout,
                  const BasicOpParams& p, std::vector<std::pair<int32_t, int32_t>> quant = {{1 << 30, -18}}) {
  TemBuilder g;
  const uint16_t a = g.activation(t, da);
  const uint16_t b = g.activation(t, db);
  const uint16_t o = g.activation(t, dout);
  g.op(k, {a, b}, {o}, p, quant);
  g.inputs = {a, b};
  g.outputs = {o};
  return g;
}

TEST(DataOpLoader, AddAndSubRefuseWhatTheyCannotRun) {
  for (Kernel k : {Kernel::kAdd, Kernel::kSub}) {
    EXPECT_EQ(load(binary(k, TemType::kInt16, {1, 5, 64}, {1, 5, 64}, {1, 5, 64}, add_params(true), {{1 << 30, -13}})),
              Status::kOk);
    EXPECT_EQ(load(binary(k, TemType::kInt8, {2, 3}, {3}, {2, 3}, add_params(false))), Status::kOk);
    // Shapes that do not broadcast, or an output of the wrong shape.
    EXPECT_EQ(load(binary(k, TemType::kInt8, {2, 3}, {2}, {2, 3}, add_params(false))), Status::kBadShape);
    EXPECT_EQ(load(binary(k, TemType::kInt8, {2, 3}, {3}, {3, 3}, add_params(false))), Status::kBadShape);
    // int16 with a zero point runs (TFLite's general path) while its offset stays inside the range;
    // at 32767 the shifted values would overflow int32.
    BasicOpParams p = add_params(true);
    p.input2_offset = 5;
    p.output_offset = -300;
    EXPECT_EQ(load(binary(k, TemType::kInt16, {4}, {4}, {4}, p, {{1 << 30, -13}})), Status::kOk);
    p.input2_offset = 32767;
    EXPECT_EQ(load(binary(k, TemType::kInt16, {4}, {4}, {4}, p, {{1 << 30, -13}})), Status::kBadParams);
    p.input2_offset = 0;
    p.input_offset = -32767;
    EXPECT_EQ(load(binary(k, TemType::kInt16, {4}, {4}, {4}, p, {{1 << 30, -13}})), Status::kBadParams);
    // int8 left shift must be 20, int16's 15; input shifts non-positive; clamp within the type.
    p = add_params(false);
    p.extra[0] = 15;
    EXPECT_EQ(load(binary(k, TemType::kInt8, {4}, {4}, {4}, p)), Status::kBadQuantization);
    p = add_params(false);
    p.extra[2] = 3;
    EXPECT_EQ(load(binary(k, TemType::kInt8, {4}, {4}, {4}, p)), Status::kBadQuantization);
    p = add_params(false);
    p.act_max = 300;
    EXPECT_EQ(load(binary(k, TemType::kInt8, {4}, {4}, {4}, p)), Status::kBadParams);
    // No output multiplier.
    EXPECT_EQ(load(binary(k, TemType::kInt8, {4}, {4}, {4}, add_params(false), {})), Status::kBadQuantization);
  }
}

TEST(DataOpLoader, BroadcastOutputMayNotOverlapTheSmallerInput) {
  // b [1] broadcast over a [4]: an output placed on b's bytes would overwrite b before its reuse.
  TemBuilder g = binary(Kernel::kAdd, TemType::kInt8, {4}, {1}, {4}, add_params(false));
  auto tem = g.build();
  auto* h = reinterpret_cast<runtime::TemHeader*>(tem.data());
  auto* t = reinterpret_cast<runtime::TemTensor*>(tem.data() + h->tensors_offset);
  t[2].offset = t[1].offset;  // output on b
  TemRun run;
  EXPECT_NE(run.load(tem), Status::kOk);
}

TEST(DataOpLoader, MulMinMaxRefuseMismatches) {
  BasicOpParams p = add_params(false);
  EXPECT_EQ(load(binary(Kernel::kMul, TemType::kInt8, {2, 2}, {2}, {2, 2}, p, {{1 << 30, 1}})), Status::kOk);
  EXPECT_EQ(load(binary(Kernel::kMul, TemType::kInt8, {2, 2}, {2}, {2, 2}, p, {{-1, 1}})), Status::kBadQuantization);
  TemBuilder g;
  const uint16_t a = g.activation(TemType::kInt8, {3});
  const uint16_t b = g.activation(TemType::kInt8, {3}, 4);  // another zero point than the output
  const uint16_t o = g.activation(TemType::kInt8, {3});
  g.op_without_params(Kernel::kMaximum, {a, b}, {o});
  g.inputs = {a, b};
  g.outputs = {o};
  EXPECT_EQ(load(g), Status::kBadQuantization);
  TemBuilder h;
  const uint16_t x = h.activation(TemType::kInt8, {3});
  const uint16_t y = h.activation(TemType::kInt16, {3});
  const uint16_t z = h.activation(TemType::kInt8, {3});
  h.op_without_params(Kernel::kMinimum, {x, y}, {z});
  h.inputs = {x, y};
  h.outputs = {z};
  EXPECT_EQ(load(h), Status::kBadIndex);
}

TEST(DataOpLoader, PadRefusesPaddingThatDoesNotFit) {
  runtime::PadParams p{};
  p.before[1] = 1;
  EXPECT_EQ(load(unary(Kernel::kPad, TemType::kInt8, {1, 2, 2, 1}, TemType::kInt8, {1, 4, 4, 1}, p)), Status::kOk);
  p.before[1] = 3;  // 3 + 2 > 4
  EXPECT_EQ(load(unary(Kernel::kPad, TemType::kInt8, {1, 2, 2, 1}, TemType::kInt8, {1, 4, 4, 1}, p)),
            Status::kBadShape);
  p.before[1] = 0xFFFFFFFFu;  // wraps if added unchecked
  EXPECT_EQ(load(unary(Kernel::kPad, TemType::kInt8, {1, 2, 2, 1}, TemType::kInt8, {1, 4, 4, 1}, p)),
            Status::kBadShape);
  p.before[1] = 0;
  p.before[5] = 1;  // beyond the rank
  EXPECT_EQ(load(unary(Kernel::kPad, TemType::kInt8, {1, 2, 2, 1}, TemType::kInt8, {1, 4, 4, 1}, p)),
            Status::kBadParams);
  p.before[5] = 0;
  p.pad_value = 200;  // not an int8
  EXPECT_EQ(load(unary(Kernel::kPad, TemType::kInt8, {1, 2, 2, 1}, TemType::kInt8, {1, 4, 4, 1}, p)),
            Status::kBadParams);
  p.pad_value = 0;
  EXPECT_EQ(load(unary(Kernel::kPad, TemType::kInt8, {1, 2, 2, 1}, TemType::kInt8, {1, 4, 4}, p)), Status::kBadShape);
  EXPECT_EQ(load(unary(Kernel::kPad, TemType::kInt8, {1, 2, 2, 1}, TemType::kInt8, {1, 4, 4, 1}, p, {}, 3)),
            Status::kBadQuantization);
  EXPECT_EQ(load(unary(Kernel::kPad, TemType::kInt8, {1, 2, 2, 1}, TemType::kInt8, {1, 4, 4, 1}, int32_t{0})),
            Status::kBadParams);  // params of the wrong size
}

TEST(DataOpLoader, TransposeRefusesANonPermutation) {
  runtime::TransposeParams p{{0, 2, 3, 1, 4, 5}, {0, 0}};
  EXPECT_EQ(load(unary(Kernel::kTranspose, TemType::kInt8, {1, 3, 4, 5}, TemType::kInt8, {1, 4, 5, 3}, p)),
            Status::kOk);
  runtime::TransposeParams twice{{0, 2, 2, 1, 4, 5}, {0, 0}};
  EXPECT_EQ(load(unary(Kernel::kTranspose, TemType::kInt8, {1, 3, 4, 5}, TemType::kInt8, {1, 4, 4, 3}, twice)),
            Status::kBadParams);
  runtime::TransposeParams out_of_rank{{0, 2, 3, 7, 4, 5}, {0, 0}};
  EXPECT_EQ(load(unary(Kernel::kTranspose, TemType::kInt8, {1, 3, 4, 5}, TemType::kInt8, {1, 4, 5, 3}, out_of_rank)),
            Status::kBadParams);
  EXPECT_EQ(load(unary(Kernel::kTranspose, TemType::kInt8, {1, 3, 4, 5}, TemType::kInt8, {1, 5, 4, 3}, p)),
            Status::kBadShape);
}

TEST(DataOpLoader, SliceRefusesReadsOutsideTheInput) {
  runtime::SliceParams p{};
  for (int d = 0; d < 6; ++d) p.stride[d] = p.count[d] = 1;
  p.begin[1] = 1;
  p.count[1] = 3;
  EXPECT_EQ(load(unary(Kernel::kStridedSlice, TemType::kInt8, {2, 4}, TemType::kInt8, {1, 3}, p)), Status::kOk);
  p.count[1] = 4;  // 1 + 3 is past the end
  EXPECT_EQ(load(unary(Kernel::kStridedSlice, TemType::kInt8, {2, 4}, TemType::kInt8, {1, 4}, p)), Status::kBadParams);
  p.count[1] = 2;
  p.stride[1] = -2;  // 1, -1
  EXPECT_EQ(load(unary(Kernel::kStridedSlice, TemType::kInt8, {2, 4}, TemType::kInt8, {1, 2}, p)), Status::kBadParams);
  p.stride[1] = 0;
  EXPECT_EQ(load(unary(Kernel::kStridedSlice, TemType::kInt8, {2, 4}, TemType::kInt8, {1, 2}, p)), Status::kBadParams);
  p.stride[1] = 1;
  EXPECT_EQ(load(unary(Kernel::kStridedSlice, TemType::kInt8, {2, 4}, TemType::kInt8, {1, 3}, p)), Status::kBadShape);
}

TEST(DataOpLoader, ConcatenationAndSplitRefuseShapesThatDoNotAddUp) {
  auto concat = [](std::vector<uint32_t> a, std::vector<uint32_t> b, std::vector<uint32_t> out, runtime::JoinParams p) {
    TemBuilder g;
    const uint16_t x = g.activation(TemType::kInt8, a);
    const uint16_t y = g.activation(TemType::kInt8, b);
    const uint16_t o = g.activation(TemType::kInt8, out);
    g.op(Kernel::kConcatenation, {x, y}, {o}, p);
    g.inputs = {x, y};
    g.outputs = {o};
    return load(g);
  };
  EXPECT_EQ(concat({2, 1}, {2, 3}, {2, 4}, {1, 0}), Status::kOk);
  EXPECT_EQ(concat({2, 1}, {2, 3}, {2, 5}, {1, 0}), Status::kBadShape);
  EXPECT_EQ(concat({2, 1}, {3, 3}, {2, 4}, {1, 0}), Status::kBadShape);
  EXPECT_EQ(concat({2, 1}, {2, 3}, {2, 4}, {2, 0}), Status::kBadParams);
  EXPECT_EQ(concat({2, 1}, {2, 3}, {2, 4}, {-1, 0}), Status::kBadParams);
  EXPECT_EQ(concat({3}, {3}, {3, 2}, {1, 1}), Status::kOk);
  EXPECT_EQ(concat({3}, {3}, {3, 2}, {1, 2}), Status::kBadParams);
  EXPECT_EQ(concat({3}, {2}, {3, 2}, {1, 1}), Status::kBadShape);

  TemBuilder g;
  const uint16_t in = g.activation(TemType::kInt8, {2, 5});
  const uint16_t a = g.activation(TemType::kInt8, {2, 2});
  const uint16_t b = g.activation(TemType::kInt8, {2, 2});  // 2 + 2 != 5
  g.op(Kernel::kSplit, {in}, {a, b}, runtime::JoinParams{1, 0});
  g.inputs = {in};
  g.outputs = {a, b};
  EXPECT_EQ(load(g), Status::kBadShape);
}

TEST(DataOpLoader, GatherRefusesConstantIndicesOutsideTheAxis) {
  auto gather = [](std::vector<int32_t> indices, runtime::GatherParams p, std::vector<uint32_t> out_dims) {
    TemBuilder g;
    const uint16_t data = g.activation(TemType::kInt8, {3, 2});
    const uint16_t idx = g.constant_of<int32_t>(TemType::kInt32, {static_cast<uint32_t>(indices.size())}, indices);
    const uint16_t out = g.activation(TemType::kInt8, out_dims);
    g.op(Kernel::kGather, {data, idx}, {out}, p);
    g.inputs = {data};
    g.outputs = {out};
    return load(g);
  };
  EXPECT_EQ(gather({2, 0}, {0, 0}, {2, 2}), Status::kOk);
  EXPECT_EQ(gather({3, 0}, {0, 0}, {2, 2}), Status::kBadParams);
  EXPECT_EQ(gather({-1, 0}, {0, 0}, {2, 2}), Status::kBadParams);
  EXPECT_EQ(gather({1, 0}, {2, 0}, {2, 2}), Status::kBadParams);
  EXPECT_EQ(gather({1, 0}, {0, 0}, {2, 3}), Status::kBadShape);
}

TEST(DataOpLoader, ReductionsRefuseBadAxesAndShapes) {
  runtime::ReduceParams p{};
  p.reduced[1] = p.reduced[2] = 1;
  EXPECT_EQ(load(unary(Kernel::kMean, TemType::kInt8, {1, 7, 7, 8}, TemType::kInt8, {1, 1, 1, 8}, p, {{1 << 30, -5}})),
            Status::kOk);
  EXPECT_EQ(load(unary(Kernel::kMean, TemType::kInt8, {1, 7, 7, 8}, TemType::kInt8, {1, 8}, p, {{1 << 30, -5}})),
            Status::kOk);
  EXPECT_EQ(load(unary(Kernel::kMean, TemType::kInt8, {1, 7, 7, 8}, TemType::kInt8, {1, 7, 8}, p, {{1 << 30, -5}})),
            Status::kBadShape);
  EXPECT_EQ(load(unary(Kernel::kMean, TemType::kInt8, {1, 7, 7, 8}, TemType::kInt8, {1, 8}, p)),
            Status::kBadQuantization);
  runtime::ReduceParams q = p;
  q.reduced[5] = 1;  // beyond the rank
  EXPECT_EQ(load(unary(Kernel::kMean, TemType::kInt8, {1, 7, 7, 8}, TemType::kInt8, {1, 8}, q, {{1 << 30, -5}})),
            Status::kBadParams);
  q = p;
  q.input_zero_point = 500;
  EXPECT_EQ(load(unary(Kernel::kMean, TemType::kInt8, {1, 7, 7, 8}, TemType::kInt8, {1, 8}, q, {{1 << 30, -5}})),
            Status::kBadParams);
  EXPECT_EQ(load(unary(Kernel::kReduceMax, TemType::kInt8, {1, 7, 7, 8}, TemType::kInt8, {1, 8}, p, {}, 3)),
            Status::kBadQuantization);
}

TEST(DataOpLoader, ConversionsRefuseBadScalesAndTypes) {
  EXPECT_EQ(load(unary(Kernel::kQuantize, TemType::kFloat32, {4}, TemType::kInt8, {4},
                       runtime::ConvertParams{0.5f, -128, 0})),
            Status::kOk);
  EXPECT_EQ(load(unary(Kernel::kQuantize, TemType::kFloat32, {4}, TemType::kInt8, {4},
                       runtime::ConvertParams{0.0f, -128, 0})),
            Status::kBadQuantization);
  EXPECT_EQ(load(unary(Kernel::kQuantize, TemType::kFloat32, {4}, TemType::kInt8, {4},
                       runtime::ConvertParams{0.5f, -129, 0})),
            Status::kBadQuantization);
  EXPECT_EQ(
      load(unary(Kernel::kQuantize, TemType::kFloat32, {4}, TemType::kInt8, {5}, runtime::ConvertParams{0.5f, 0, 0})),
      Status::kBadShape);
  EXPECT_EQ(load(unary(Kernel::kQuantize, TemType::kInt8, {4}, TemType::kInt16, {4}, runtime::ConvertParams{0, 0, 0})),
            Status::kBadQuantization);  // no multiplier
  EXPECT_EQ(load(unary(Kernel::kDequantize, TemType::kInt8, {4}, TemType::kFloat32, {4},
                       runtime::ConvertParams{std::nanf(""), 0, 0})),
            Status::kBadQuantization);
  EXPECT_EQ(load(unary(Kernel::kDequantize, TemType::kInt32, {4}, TemType::kFloat32, {4},
                       runtime::ConvertParams{1.0f, 0, 0})),
            Status::kBadIndex);
}

}  // namespace
}  // namespace tinyedge::testing
