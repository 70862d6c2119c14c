// The compiler's lowering of the arithmetic, data-movement, reduction and conversion ops refuses
// what their kernels cannot run, naming op, tensor and problem; what it accepts compiles into a
// .tem that loads and computes what TFLite would.
#include <gtest/gtest.h>

#include <cstring>

#include "deploy/model/compile.h"
#include "deploy/model/graph.h"
#include "tests/runtime/model_helpers.h"

namespace tinyedge::testing {
namespace {

using model::DataType;
using model::Graph;
using model::OpKind;

OpKind op(int builtin) { return static_cast<OpKind>(builtin); }

int int16_activation(Graph& g, const std::string& name, std::vector<int32_t> shape, float scale, int32_t zp = 0) {
  const int t = g.add_activation(name, std::move(shape), scale, zp);
  g.tensors[t].type = DataType::kInt16;
  return t;
}

int int32_constant(Graph& g, const std::string& name, std::vector<int32_t> shape, const std::vector<int32_t>& values) {
  model::Tensor t;
  t.name = name;
  t.type = DataType::kInt32;
  t.shape = std::move(shape);
  t.data.resize(values.size() * 4);
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return g.add_tensor(std::move(t));
}

// compile() must throw, and its message must hold every one of `parts`.
void expect_refused(const Graph& g, std::initializer_list<const char*> parts) {
  try {
    model::compile(g, {});
    ADD_FAILURE() << "compiled a graph it should refuse";
  } catch (const model::CompileError& e) {
    for (const char* p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(DataOpCompile, AddInt16RefusesAZeroPointAtTheTypesLimit) {
  // TFLite Micro runs int16 ADD with any zero point strictly inside the range (its general path);
  // an input offset of 32767 would leave it.
  Graph g;
  const int a = int16_activation(g, "a", {1, 4}, 0.001f);
  const int b = int16_activation(g, "b", {1, 4}, 0.001f, -32767);
  const int y = int16_activation(g, "y", {1, 4}, 0.002f);
  g.add_op(OpKind::kAdd, {a, b}, y);
  g.inputs = {a, b};
  g.outputs = {y};
  expect_refused(g, {"op 0 (ADD)", "'b'", "int16 input zero point must lie in -32766..32766"});
}

TEST(DataOpCompile, ShapesThatDoNotBroadcastAreNamed) {
  Graph g;
  const int a = g.add_activation("a", {2, 3}, 0.1f, 0);
  const int b = g.add_activation("b", {2}, 0.1f, 0);
  const int y = g.add_activation("sum", {2, 3}, 0.2f, 0);
  g.add_op(op(41), {a, b}, y);  // SUB
  g.inputs = {a, b};
  g.outputs = {y};
  expect_refused(g, {"op 0 (SUB)", "'sum'", "[2,3] and [2] do not broadcast"});
}

TEST(DataOpCompile, BroadcastSubCompilesAndRuns) {
  // y = a - b with b [1,3] over a [2,3]; scales 0.5, 0.5 -> 0.5, zero points 0: exact a - b.
  Graph g;
  const int a = g.add_activation("a", {2, 3}, 0.5f, 0);
  const int b = g.add_activation("b", {1, 3}, 0.5f, 0);
  const int y = g.add_activation("y", {2, 3}, 0.5f, 0);
  g.add_op(op(41), {a, b}, y);
  g.inputs = {a, b};
  g.outputs = {y};
  Runner r;
  ASSERT_EQ(r.load(model::compile(g, {}).tem), runtime::Status::kOk);
  const int8_t av[] = {10, 20, 30, -100, 0, 100};
  const int8_t bv[] = {1, -2, 100};
  std::memcpy(r.interp.input(0).data(), av, 6);
  std::memcpy(r.interp.input(1).data(), bv, 3);
  ASSERT_EQ(r.interp.invoke(), runtime::Status::kOk);
  const std::vector<int8_t> out(r.interp.output().begin(), r.interp.output().end());
  EXPECT_EQ(out, (std::vector<int8_t>{9, 22, -70, -101, 2, 0}));
}

TEST(DataOpCompile, PadTransposeAndMeanCheckTheirShapes) {
  {
    Graph g;
    const int x = g.add_activation("x", {1, 2, 2, 1}, 0.1f, 0);
    const int pads = int32_constant(g, "pads", {4, 2}, {0, 0, 1, 1, 1, 1, 0, 0});
    const int y = g.add_activation("padded", {1, 4, 5, 1}, 0.1f, 0);
    g.add_op(op(34), {x, pads}, y);
    g.inputs = {x};
    g.outputs = {y};
    expect_refused(g, {"op 0 (PAD)", "'padded'", "does not match input [1,2,2,1] plus paddings"});
  }
  {
    Graph g;
    const int x = g.add_activation("x", {1, 3, 4, 5}, 0.1f, 0);
    const int perm = int32_constant(g, "perm", {4}, {0, 2, 2, 1});
    const int y = g.add_activation("t", {1, 4, 4, 3}, 0.1f, 0);
    g.add_op(op(39), {x, perm}, y);
    g.inputs = {x};
    g.outputs = {y};
    expect_refused(g, {"op 0 (TRANSPOSE)", "'perm'", "not a permutation"});
  }
  {
    Graph g;
    const int x = g.add_activation("x", {1, 7, 7, 8}, 0.1f, 0);
    const int axes = int32_constant(g, "axes", {2}, {1, 2});
    const int y = g.add_activation("pooled", {1, 7, 8}, 0.1f, 0);
    g.add_op(op(40), {x, axes}, y);
    g.inputs = {x};
    g.outputs = {y};
    expect_refused(g, {"op 0 (MEAN)", "'pooled'", "does not match the reduction [1,8]"});
  }
}

TEST(DataOpCompile, DataMovesKeepTheirQuantisation) {
  Graph g;
  const int a = g.add_activation("a", {2, 1}, 0.1f, 0);
  const int b = g.add_activation("b", {2, 2}, 0.2f, 0);
  const int y = g.add_activation("joined", {2, 3}, 0.1f, 0);
  model::OpOptions o;
  o.ints["axis"] = 1;
  g.add_op(op(2), {a, b}, y, o);
  g.inputs = {a, b};
  g.outputs = {y};
  expect_refused(g, {"op 0 (CONCATENATION)", "'joined'", "quantisation must match"});
  Graph h;
  const int p = h.add_activation("p", {3}, 0.1f, 0);
  const int q = h.add_activation("q", {3}, 0.1f, 5);
  const int z = h.add_activation("m", {3}, 0.1f, 0);
  h.add_op(op(55), {p, q}, z);  // MAXIMUM
  h.inputs = {p, q};
  h.outputs = {z};
  expect_refused(h, {"op 0 (MAXIMUM)", "share one quantisation"});
}

TEST(DataOpCompile, QuantizeRefusesTypesItCannotMake) {
  Graph g;
  model::Tensor f;
  f.name = "image";
  f.type = DataType::kFloat32;
  f.shape = {1, 4};
  const int x = g.add_tensor(f);
  model::Tensor o;
  o.name = "wide";
  o.type = DataType::kInt32;
  o.shape = {1, 4};
  o.quant.scales = {0.5f};
  o.quant.zero_points = {0};
  const int y = g.add_tensor(o);
  g.add_op(op(114), {x}, y);
  g.inputs = {x};
  g.outputs = {y};
  expect_refused(g, {"op 0 (QUANTIZE)", "'wide'", "float32 -> int32 is not supported"});
}

TEST(DataOpCompile, MeanFoldsOneOverCountLikeTflite) {
  // 49 positions, equal scales: TFLite's multiplier 2^30 shift 1, folded: shift 5 ->
  // (2^30 << 5) / 49 = 701219150, shift -4. A flat input comes back unchanged.
  Graph g;
  const int x = g.add_activation("x", {1, 7, 7, 2}, 0.07f, -9);
  const int axes = int32_constant(g, "axes", {2}, {1, 2});
  const int y = g.add_activation("y", {1, 2}, 0.07f, -9);
  g.add_op(op(40), {x, axes}, y);
  g.inputs = {x};
  g.outputs = {y};
  Runner r;
  ASSERT_EQ(r.load(model::compile(g, {}).tem), runtime::Status::kOk);
  const auto q = r.model.op(0);
  const auto* table = reinterpret_cast<const int32_t*>(r.model.data() + q.quant_offset);
  EXPECT_EQ(table[0], 701219150);
  EXPECT_EQ(table[1], -4);
  for (size_t i = 0; i < 98; ++i) r.interp.input()[i] = static_cast<int8_t>(i % 2 ? -100 : 50);
  ASSERT_EQ(r.interp.invoke(), runtime::Status::kOk);
  EXPECT_EQ(r.interp.output()[0], 50);
  EXPECT_EQ(r.interp.output()[1], -100);
}

}  // namespace
}  // namespace tinyedge::testing
