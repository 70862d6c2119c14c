// Bit-exactness against TensorFlow Lite Micro on public models we did not design for
// (../shared/models/wild: TFLM's examples and integration-test models): each is imported with the
// real compiler and must reproduce TFLM's graph outputs byte for byte on every reference vector,
// with the optimised and the reference kernels alike. Inputs and outputs are raw bytes in each
// tensor's own type (int8, int16, int32, float32), several graph inputs or outputs concatenated in
// order, as the vectors' README describes.
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

#include "tests/runtime/model_helpers.h"
#include "tests/runtime/shared_models.h"

namespace tinyedge::testing {
namespace {

// Every wild model the runtime runs. A model leaves this list only with the reason written here.
const char* const kWildModels[] = {
    "hello_world_int8",
    "micro_speech_quantized",
    "person_detect",
    "simple_add_model",
    "seanet_add0",
    "seanet_conv0",
    "seanet_transpose_conv4",
    "mobilenet_v2_quantized_1x3x224x224",
    "id_model",
    "retinaface",
    "trained_lstm_int8",
    "keyword_scrambled_8bit",
};

std::string first_differences(std::span<const uint8_t> got, std::span<const uint8_t> want) {
  std::ostringstream s;
  int shown = 0;
  for (size_t i = 0; i < want.size() && shown < 6; ++i) {
    if (got[i] != want[i]) {
      s << " [byte " << i << "] got 0x" << std::hex << int(got[i]) << " want 0x" << int(want[i]) << std::dec;
      ++shown;
    }
  }
  return s.str();
}

class WildModels : public ::testing::TestWithParam<const char*> {};

TEST_P(WildModels, EveryVectorMatchesTfliteMicroBitForBit) {
  const std::string name = GetParam();
  const auto dir = shared_models_dir() / "wild" / name;
  TINYEDGE_REQUIRE_SHARED(dir / (name + ".tflite"));
  const auto compiled = compile_tflite(read_bytes(dir / (name + ".tflite")));
  Runner r;
  ASSERT_EQ(r.load(compiled.tem), runtime::Status::kOk) << name << ": the compiled model does not load";

  size_t input_bytes = 0;
  for (uint16_t i = 0; i < r.model.input_count(); ++i) input_bytes += r.interp.input(i).size();
  std::printf("%s: %u inputs (%zu bytes), %u outputs, %u ops, arena %u bytes\n", name.c_str(), r.model.input_count(),
              input_bytes, r.model.output_count(), r.model.op_count(), r.model.arena_bytes());

  for (int v = 0; v < 4; ++v) {
    char in_name[32], out_name[32];
    std::snprintf(in_name, sizeof in_name, "in_%03d.bin", v);
    std::snprintf(out_name, sizeof out_name, "out_%03d.bin", v);
    const auto in = read_bytes(dir / in_name);
    const auto want = read_bytes(dir / out_name);
    ASSERT_EQ(in.size(), input_bytes) << name << "/" << in_name << ": graph inputs take another size";
    for (auto set : {runtime::KernelSet::kOptimized, runtime::KernelSet::kReference}) {
      const char* which = set == runtime::KernelSet::kReference ? " (reference kernels)" : " (optimised kernels)";
      // TFLM's vectors come from a fresh interpreter each: stateful ops (LSTM, SVDF) start over.
      r.interp.reset_state();
      r.interp.set_kernel_set(set);
      size_t at = 0;
      for (uint16_t i = 0; i < r.model.input_count(); ++i) {
        auto dst = r.interp.input(i);
        std::memcpy(dst.data(), in.data() + at, dst.size());
        at += dst.size();
      }
      ASSERT_EQ(r.interp.invoke(), runtime::Status::kOk) << name << " vector " << v << which;
      std::vector<uint8_t> got;
      for (uint16_t o = 0; o < r.model.output_count(); ++o) {
        const auto out = r.interp.output(o);
        got.insert(got.end(), reinterpret_cast<const uint8_t*>(out.data()),
                   reinterpret_cast<const uint8_t*>(out.data()) + out.size());
      }
      ASSERT_EQ(got.size(), want.size()) << name << "/" << out_name << ": graph outputs take another size";
      EXPECT_EQ(0, std::memcmp(got.data(), want.data(), want.size()))
          << name << " vector " << v << which << " differs from TFLite Micro:" << first_differences(got, want);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TfliteMicroModels, WildModels, ::testing::ValuesIn(kWildModels),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace tinyedge::testing
