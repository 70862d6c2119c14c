// TFLite Micro bit-exactness, layer by layer, of the models in ../shared/models/wild that run on
// the arithmetic, data-movement and reduction kernels (ADD int8/int16, TRANSPOSE, PAD, MEAN beside
// conv, depthwise and FC): every layer of vector 0, to name the first op that differs. Whole-model
// outputs of every vector: wild_models_test.cpp.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/runtime/model_helpers.h"
#include "tests/runtime/shared_models.h"

namespace tinyedge::testing {
namespace {

std::filesystem::path wild_dir() { return shared_models_dir() / "wild"; }

std::string first_difference(std::span<const int8_t> got, const std::vector<uint8_t>& want) {
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    if (static_cast<uint8_t>(got[i]) != want[i]) {
      std::ostringstream s;
      s << "first difference at byte " << i << ": got " << int(static_cast<uint8_t>(got[i])) << " want "
        << int(want[i]);
      return s.str();
    }
  }
  return got.size() == want.size() ? "identical" : "sizes differ";
}

class WildModel : public ::testing::TestWithParam<const char*> {};

TEST_P(WildModel, EveryLayerOfVectorZeroMatches) {
  const std::string name = GetParam();
  const auto dir = wild_dir() / name;
  TINYEDGE_REQUIRE_SHARED(dir / (name + ".tflite"));
  const auto compiled = compile_tflite(read_bytes(dir / (name + ".tflite")), /*in_place=*/false);
  Runner r;
  ASSERT_EQ(r.load(compiled.tem), runtime::Status::kOk);
  std::ifstream index(dir / "layers_vec000" / "index.txt");
  std::vector<std::pair<std::string, std::string>> layers;  // op name, file
  for (std::string line; std::getline(index, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    std::string op_index, op_name, file;
    s >> op_index >> op_name >> file;
    layers.emplace_back(op_name, file);
  }
  ASSERT_EQ(layers.size(), r.model.op_count()) << "ops lowered one for one";
  const auto in = read_bytes(dir / "in_000.bin");
  size_t at = 0;
  for (uint16_t i = 0; i < r.model.input_count(); ++i) {
    auto input = r.interp.input(i);
    ASSERT_LE(at + input.size(), in.size());
    std::memcpy(input.data(), in.data() + at, input.size());
    at += input.size();
  }
  for (uint16_t op = 0; op < r.model.op_count(); ++op) {
    ASSERT_EQ(r.interp.invoke_ops(op, op + 1), runtime::Status::kOk);
    const auto want = read_bytes(dir / "layers_vec000" / layers[op].second);
    const auto got = r.interp.tensor_data(r.model.op_outputs(op)[0]);
    ASSERT_EQ(got.size(), want.size()) << name << " op " << op << " " << layers[op].first;
    ASSERT_EQ(0, std::memcmp(got.data(), want.data(), want.size()))
        << name << " op " << op << " " << layers[op].first << ": " << first_difference(got, want);
  }
}

INSTANTIATE_TEST_SUITE_P(DataOps, WildModel,
                         ::testing::Values("simple_add_model", "seanet_add0", "mobilenet_v2_quantized_1x3x224x224"));

}  // namespace
}  // namespace tinyedge::testing
