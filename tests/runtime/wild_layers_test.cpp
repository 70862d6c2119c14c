// Layer by layer against TFLite Micro on the wild models whose other ops may not import yet
// (id_model, retinaface): each op of the kinds listed is imported alone (import_tflite_op), fed
// the reference outputs of the ops that produced its inputs (layers_vec000, vector 0), and its
// output compared with TFLM's byte for byte, optimised and reference kernels.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/runtime/model_helpers.h"
#include "tests/runtime/shared_models.h"

namespace tinyedge::testing {
namespace {

struct LayerFile {
  int op = -1;
  std::string op_name, file;
};

// index.txt: op index, op name, file, tensor index, ... (one line per op output).
std::map<int, LayerFile> read_index(const std::filesystem::path& p) {
  std::map<int, LayerFile> by_tensor;
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    LayerFile l;
    int tensor = -1;
    s >> l.op >> l.op_name >> l.file >> tensor;
    by_tensor[tensor] = l;
  }
  return by_tensor;
}

struct Case {
  const char* model;
  std::set<std::string> ops;
};

class WildLayers : public ::testing::TestWithParam<Case> {};

TEST_P(WildLayers, EachLayerMatchesTfliteMicroFromTheReferenceInputs) {
  const Case& c = GetParam();
  const auto dir = shared_models_dir() / "wild" / c.model;
  TINYEDGE_REQUIRE_SHARED(dir / (std::string(c.model) + ".tflite"));
  const auto tflite = read_bytes(dir / (std::string(c.model) + ".tflite"));
  const auto index = read_index(dir / "layers_vec000" / "index.txt");
  std::map<int, LayerFile> by_op;
  for (const auto& [tensor, l] : index) by_op[l.op] = l;
  const auto graph_input = read_bytes(dir / "in_000.bin");
  int checked = 0;
  for (const auto& [op, layer] : by_op) {
    if (!c.ops.count(layer.op_name)) continue;
    SCOPED_TRACE(std::string(c.model) + " op " + std::to_string(op) + " " + layer.op_name);
    model::ModelMetadata meta;
    meta.name = "layer";
    const model::Graph g = model::import_tflite_op(tflite, static_cast<uint32_t>(op));
    const auto compiled = model::compile(g, meta);
    for (auto set : {runtime::KernelSet::kOptimized, runtime::KernelSet::kReference}) {
      Runner r;
      ASSERT_EQ(r.load(compiled.tem), runtime::Status::kOk);
      r.interp.set_kernel_set(set);
      for (uint16_t i = 0; i < r.model.input_count(); ++i) {
        const int tensor = g.inputs[i];
        const auto it = index.find(tensor);
        const auto bytes = it != index.end() ? read_bytes(dir / "layers_vec000" / it->second.file) : graph_input;
        ASSERT_EQ(bytes.size(), r.interp.input(i).size()) << "input tensor " << tensor;
        std::memcpy(r.interp.input(i).data(), bytes.data(), bytes.size());
      }
      ASSERT_EQ(r.interp.invoke(), runtime::Status::kOk);
      const auto want = read_bytes(dir / "layers_vec000" / layer.file);
      const auto got = r.interp.output(0);
      ASSERT_EQ(got.size(), want.size());
      size_t differ = 0, first = 0;
      for (size_t k = 0; k < want.size(); ++k) {
        if (static_cast<uint8_t>(got[k]) != want[k] && differ++ == 0) first = k;
      }
      EXPECT_EQ(differ, 0u) << differ << " bytes differ, first at " << first << ": got " << int(got[first]) << " want "
                            << int(static_cast<int8_t>(want[first]))
                            << (set == runtime::KernelSet::kReference ? " (reference)" : " (optimised)");
    }
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no layer of the listed kinds";
}

const std::set<std::string> kOps = {
    "LEAKY_RELU",      "RESIZE_NEAREST_NEIGHBOR", "RELU",   "CONV_2D", "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED", "AVERAGE_POOL_2D",         "SOFTMAX"};

INSTANTIATE_TEST_SUITE_P(IdModelAndRetinaface, WildLayers,
                         ::testing::Values(Case{"id_model", kOps}, Case{"retinaface", kOps}),
                         [](const auto& info) { return std::string(info.param.model); });

}  // namespace
}  // namespace tinyedge::testing
