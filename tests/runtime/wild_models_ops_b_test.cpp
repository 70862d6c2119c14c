// TFLite Micro's own example and SEANet models (../shared/models/wild) through the real compiler
// and interpreter: every reference vector bit for bit (graph inputs split from in_NNN.bin in
// order, outputs concatenated as out_NNN.bin), optimised and reference kernels.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/runtime/model_helpers.h"
#include "tests/runtime/shared_models.h"

namespace tinyedge::testing {
namespace {

std::filesystem::path wild_dir() { return shared_models_dir() / "wild"; }

std::string first_differences(std::span<const uint8_t> got, std::span<const uint8_t> want) {
  std::ostringstream s;
  int shown = 0;
  for (size_t i = 0; i < want.size() && shown < 6; ++i) {
    if (got[i] != want[i]) {
      s << " [byte " << i << "] got " << int(got[i]) << " want " << int(want[i]);
      ++shown;
    }
  }
  return s.str();
}

class WildModel : public ::testing::TestWithParam<const char*> {};

TEST_P(WildModel, EveryVectorMatchesTfliteMicroBitForBit) {
  const std::string name = GetParam();
  const auto dir = wild_dir() / name;
  TINYEDGE_REQUIRE_SHARED(dir / (name + ".tflite"));
  const auto compiled = compile_tflite(read_bytes(dir / (name + ".tflite")));
  Runner r;
  ASSERT_EQ(r.load(compiled.tem), runtime::Status::kOk);
  for (int v = 0; v < 4; ++v) {
    char in_name[32], out_name[32];
    std::snprintf(in_name, sizeof in_name, "in_%03d.bin", v);
    std::snprintf(out_name, sizeof out_name, "out_%03d.bin", v);
    const auto in = read_bytes(dir / in_name);
    const auto want = read_bytes(dir / out_name);
    for (auto set : {runtime::KernelSet::kOptimized, runtime::KernelSet::kReference}) {
      r.interp.set_kernel_set(set);
      size_t at = 0;
      for (uint16_t i = 0; i < r.model.input_count(); ++i) {
        const auto dst = r.interp.input(i);
        ASSERT_LE(at + dst.size(), in.size()) << in_name << " is shorter than the graph inputs";
        std::memcpy(dst.data(), in.data() + at, dst.size());
        at += dst.size();
      }
      ASSERT_EQ(at, in.size()) << in_name << " is longer than the graph inputs";
      ASSERT_EQ(r.interp.invoke(), runtime::Status::kOk);
      std::vector<uint8_t> got;
      for (uint16_t i = 0; i < r.model.output_count(); ++i) {
        const auto o = r.interp.output(i);
        got.insert(got.end(), reinterpret_cast<const uint8_t*>(o.data()),
                   reinterpret_cast<const uint8_t*>(o.data()) + o.size());
      }
      ASSERT_EQ(got.size(), want.size()) << out_name;
      EXPECT_EQ(got, want) << name << " vector " << v
                           << (set == runtime::KernelSet::kReference ? " (reference)" : " (optimised)")
                           << " differs:" << first_differences(got, want);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(ExamplesAndSeanet, WildModel,
                         ::testing::Values("hello_world_int8", "micro_speech_quantized", "person_detect",
                                           "seanet_conv0", "seanet_transpose_conv4"));

}  // namespace
}  // namespace tinyedge::testing
