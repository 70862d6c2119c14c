// Bit-exactness against TensorFlow Lite Micro: import each MLPerf Tiny model with the real
// compiler, run every reference input, compare every output byte (optimised and reference
// kernels), and for vector 0 compare every layer's output.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/runtime/model_helpers.h"
#include "tests/runtime/shared_models.h"

namespace tinyedge::testing {
namespace {

const char* const kModels[] = {"kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"};

class ReferenceVectors : public ::testing::TestWithParam<const char*> {};

std::string hex_diff(std::span<const int8_t> got, const std::vector<uint8_t>& want) {
  std::ostringstream s;
  int shown = 0;
  for (size_t i = 0; i < want.size() && shown < 8; ++i) {
    if (static_cast<uint8_t>(got[i]) != want[i]) {
      s << " [" << i << "] got " << int(got[i]) << " want " << int(static_cast<int8_t>(want[i]));
      ++shown;
    }
  }
  return s.str();
}

TEST_P(ReferenceVectors, EveryVectorMatchesTfliteMicroBitForBit) {
  const std::string name = GetParam();
  const auto dir = shared_models_dir();
  TINYEDGE_REQUIRE_SHARED(dir / (name + ".tflite"));
  const auto tflite = read_bytes(dir / (name + ".tflite"));
  const auto compiled = compile_tflite(tflite);
  Runner r;
  ASSERT_EQ(r.load(compiled.tem), runtime::Status::kOk);
  for (int v = 0; v < 5; ++v) {
    char in_name[32], out_name[32];
    std::snprintf(in_name, sizeof in_name, "in_%03d.bin", v);
    std::snprintf(out_name, sizeof out_name, "out_%03d.bin", v);
    const auto in = read_bytes(dir / "vectors" / name / in_name);
    const auto want = read_bytes(dir / "vectors" / name / out_name);
    ASSERT_EQ(in.size(), r.interp.input().size()) << in_name;
    ASSERT_EQ(want.size(), r.interp.output().size()) << out_name;
    for (auto set : {runtime::KernelSet::kOptimized, runtime::KernelSet::kReference}) {
      std::memcpy(r.interp.input().data(), in.data(), in.size());
      r.interp.set_kernel_set(set);
      ASSERT_EQ(r.interp.invoke(), runtime::Status::kOk);
      const auto out = r.interp.output();
      EXPECT_EQ(0, std::memcmp(out.data(), want.data(), want.size()))
          << name << " vector " << v << (set == runtime::KernelSet::kReference ? " (reference)" : " (optimised)")
          << " differs:" << hex_diff(out, want);
    }
  }
}

TEST_P(ReferenceVectors, EveryLayerOfVectorZeroMatches) {
  const std::string name = GetParam();
  const auto dir = shared_models_dir();
  TINYEDGE_REQUIRE_SHARED(dir / "vectors" / name / "layers_vec000" / "index.txt");
  const auto tflite = read_bytes(dir / (name + ".tflite"));
  const auto compiled = compile_tflite(tflite);
  Runner r;
  ASSERT_EQ(r.load(compiled.tem), runtime::Status::kOk);
  const auto in = read_bytes(dir / "vectors" / name / "in_000.bin");
  for (auto set : {runtime::KernelSet::kOptimized, runtime::KernelSet::kReference}) {
    r.interp.set_kernel_set(set);
    std::memcpy(r.interp.input().data(), in.data(), in.size());
    for (uint16_t op = 0; op < r.model.op_count(); ++op) {
      ASSERT_EQ(r.interp.invoke_ops(op, op + 1), runtime::Status::kOk);
      char file[32];
      std::snprintf(file, sizeof file, "op_%02d_out.bin", op);
      const auto want = read_bytes(dir / "vectors" / name / "layers_vec000" / file);
      const auto got = r.interp.tensor_data(r.model.op_outputs(op)[0]);
      ASSERT_EQ(got.size(), want.size()) << file;
      ASSERT_EQ(0, std::memcmp(got.data(), want.data(), want.size()))
          << name << " first differing layer: op " << op << (set == runtime::KernelSet::kReference ? " (reference)" : "")
          << hex_diff(got, want);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(MlperfTiny, ReferenceVectors, ::testing::ValuesIn(kModels));

}  // namespace
}  // namespace tinyedge::testing
