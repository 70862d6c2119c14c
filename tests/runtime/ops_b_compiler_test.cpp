// The compiler refuses what the new kernels cannot run, naming op, tensor and problem: 16x8 with
// a non-zero zero point, a resize that would change quantisation, a LOGISTIC output TFLite Micro
// cannot produce, a TRANSPOSE_CONV whose shape tensor disagrees; and a valid LEAKY_RELU lowers
// with TFLite Micro's requantisation.
#include <gtest/gtest.h>

#include <cstring>

#include "deploy/model/compile.h"
#include "deploy/model/graph.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::testing {
namespace {

using model::DataType;
using model::Graph;
using model::OpKind;

std::string compile_error(const Graph& g) {
  try {
    model::compile(g, {});
  } catch (const model::CompileError& e) {
    return e.what();
  }
  return "";
}

int int16_activation(Graph& g, std::string name, std::vector<int32_t> shape, float scale, int32_t zp) {
  const int t = g.add_activation(std::move(name), std::move(shape), scale, zp);
  g.tensors[t].type = DataType::kInt16;
  return t;
}

Graph one_op(OpKind kind, std::vector<int> inputs, int out, Graph g) {
  g.add_op(kind, std::move(inputs), out);
  for (const auto& op : g.ops) {
    for (int t : op.inputs) {
      if (t >= 0 && !g.tensors[t].is_constant()) g.inputs.push_back(t);
    }
  }
  g.outputs = {out};
  return g;
}

TEST(OpsBCompiler, Conv16x8RefusesNonZeroZeroPointByTensor) {
  Graph g;
  const int in = int16_activation(g, "in16", {1, 4, 4, 2}, 0.001f, 3);
  const std::vector<int8_t> w(2 * 9 * 2, 1);
  const int f = g.add_int8_weights("w", {2, 3, 3, 2}, w, {0.01f, 0.02f});
  model::Tensor bias;
  bias.name = "b64";
  bias.type = DataType::kInt64;
  bias.shape = {2};
  bias.data.assign(16, 0);
  const int b = g.add_tensor(bias);
  const int out = int16_activation(g, "out16", {1, 2, 2, 2}, 0.002f, 0);
  const std::string msg = compile_error(one_op(OpKind::kConv2D, {in, f, b}, out, g));
  EXPECT_NE(msg.find("CONV_2D"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'in16'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("zero point must be 0"), std::string::npos) << msg;
}

TEST(OpsBCompiler, ResizeRefusesAChangeOfQuantisation) {
  Graph g;
  const int in = g.add_activation("small", {1, 2, 2, 1}, 0.5f, 0);
  model::Tensor size;
  size.name = "size";
  size.type = DataType::kInt32;
  size.shape = {2};
  const int32_t hw[2] = {4, 4};
  size.data.assign(reinterpret_cast<const uint8_t*>(hw), reinterpret_cast<const uint8_t*>(hw) + 8);
  const int s = g.add_tensor(size);
  const int out = g.add_activation("big", {1, 4, 4, 1}, 0.25f, 0);
  const std::string msg =
      compile_error(one_op(static_cast<OpKind>(runtime::Kernel::kResizeNearestNeighbor), {in, s}, out, g));
  EXPECT_NE(msg.find("RESIZE_NEAREST_NEIGHBOR"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'big'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("quantisation"), std::string::npos) << msg;
}

TEST(OpsBCompiler, LogisticRefusesAnOutputScaleItCannotProduce) {
  Graph g;
  const int in = g.add_activation("x", {1, 8}, 0.1f, 0);
  const int out = g.add_activation("sigmoid", {1, 8}, 0.01f, -128);
  const std::string msg = compile_error(one_op(static_cast<OpKind>(runtime::Kernel::kLogistic), {in}, out, g));
  EXPECT_NE(msg.find("LOGISTIC"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'sigmoid'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1/256"), std::string::npos) << msg;
}

TEST(OpsBCompiler, TransposeConvRefusesAShapeTensorThatDisagrees) {
  Graph g;
  model::Tensor shape;
  shape.name = "out_shape";
  shape.type = DataType::kInt32;
  shape.shape = {4};
  const int32_t dims[4] = {1, 6, 1, 1};  // the output tensor says 5 rows
  shape.data.assign(reinterpret_cast<const uint8_t*>(dims), reinterpret_cast<const uint8_t*>(dims) + 16);
  const int s = g.add_tensor(shape);
  const std::vector<int8_t> w = {1, 2, 3};
  const int f = g.add_int8_weights("w", {1, 3, 1, 1}, w, {0.1f});
  const int in = g.add_activation("x", {1, 2, 1, 1}, 0.1f, 0);
  const int out = g.add_activation("y", {1, 5, 1, 1}, 0.1f, 0);
  Graph h = g;
  h.add_op(static_cast<OpKind>(runtime::Kernel::kTransposeConv), {s, f, in}, out);
  h.ops.back().options.stride_h = 2;
  h.inputs = {in};
  h.outputs = {out};
  const std::string msg = compile_error(h);
  EXPECT_NE(msg.find("TRANSPOSE_CONV"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'out_shape'"), std::string::npos) << msg;
}

TEST(OpsBCompiler, LeakyReluLowersToALoadableOp) {
  Graph g;
  const int in = g.add_activation("x", {1, 4, 4, 3}, 0.1f, -10);
  const int out = g.add_activation("y", {1, 4, 4, 3}, 0.05f, 5);
  Graph h = one_op(static_cast<OpKind>(runtime::Kernel::kLeakyRelu), {in}, out, g);
  h.ops.back().options.floats["alpha"] = -0.3f;
  const auto compiled = model::compile(h, {});
  std::vector<uint32_t> blob((compiled.tem.size() + 3) / 4);
  std::memcpy(blob.data(), compiled.tem.data(), compiled.tem.size());
  runtime::Model m;
  ASSERT_EQ(runtime::Model::load({reinterpret_cast<const uint8_t*>(blob.data()), compiled.tem.size()}, m),
            runtime::Status::kOk);
  EXPECT_EQ(m.op(0).kernel, static_cast<uint16_t>(runtime::Kernel::kLeakyRelu));
  EXPECT_EQ(m.op(0).quant_count, 2u);
}

}  // namespace
}  // namespace tinyedge::testing
