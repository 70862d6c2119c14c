// `tinyedge model export --c-header` output compiled into this program (C++ and, in
// header_in_c.c, C11): the array is the model byte for byte, aligned, loads in place with an
// arena of exactly the exported size, and infers as the file does.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "node_firmware/runtime/golden_run.h"
#include "node_firmware/runtime/model.h"
#include "tests/runtime/tiny_model.h"
#include "tiny_model.h"

extern "C" const uint8_t* tiny_model_from_c(size_t* size, uint32_t* arena);

namespace {

TEST(ModelExportCHeader, ArrayIsTheModelAlignedWithItsArenaSize) {
  ASSERT_EQ(TINY_MODEL_BYTES, tinyedge::testing::kTinyModelTemSize);
  EXPECT_EQ(std::memcmp(tiny_model, tinyedge::testing::kTinyModelTem, TINY_MODEL_BYTES), 0)
      << "the exported array differs from the .tem it was made from";
  EXPECT_EQ(reinterpret_cast<uintptr_t>(tiny_model) % TINY_MODEL_ALIGNMENT, 0u);
  static_assert(TINY_MODEL_ALIGNMENT >= 16);

  tinyedge::runtime::Model model;
  ASSERT_EQ(tinyedge::runtime::Model::load(std::span(tiny_model, TINY_MODEL_BYTES), model),
            tinyedge::runtime::Status::kOk);
  EXPECT_EQ(TINY_MODEL_ARENA_BYTES, model.arena_bytes());
  EXPECT_EQ(TINY_MODEL_MODEL_ID, model.model_id());
  EXPECT_EQ(TINY_MODEL_VERSION, model.version());

  size_t c_size = 0;
  uint32_t c_arena = 0;
  const uint8_t* c_bytes = tiny_model_from_c(&c_size, &c_arena);
  EXPECT_EQ(c_size, TINY_MODEL_BYTES);
  EXPECT_EQ(c_arena, TINY_MODEL_ARENA_BYTES);
  EXPECT_EQ(std::memcmp(c_bytes, tinyedge::testing::kTinyModelTem, c_size), 0) << "the C translation unit's copy";
}

TEST(ModelExportCHeader, InfersInPlaceWithTheExportedArena) {
  tinyedge::runtime::Model model;
  ASSERT_EQ(tinyedge::runtime::Model::load(std::span(tiny_model, TINY_MODEL_BYTES), model),
            tinyedge::runtime::Status::kOk);
  const std::vector<uint8_t> input(model.input_info().element_count, 7);
  alignas(16) static uint8_t arena[TINY_MODEL_ARENA_BYTES];
  const auto result = tinyedge::runtime::run_golden(std::span(tiny_model, TINY_MODEL_BYTES), input, arena);
  ASSERT_EQ(result.stage, tinyedge::runtime::GoldenStage::kDone) << tinyedge::runtime::to_string(result.status);
  const std::vector<int8_t> from_header(result.output.begin(), result.output.end());

  alignas(16) static uint8_t file_copy[TINY_MODEL_BYTES];
  std::memcpy(file_copy, tinyedge::testing::kTinyModelTem, TINY_MODEL_BYTES);
  std::vector<uint8_t> arena2(TINY_MODEL_ARENA_BYTES + 16);
  const auto reference =
      tinyedge::runtime::run_golden(file_copy, input, std::span(arena2).first(TINY_MODEL_ARENA_BYTES));
  ASSERT_EQ(reference.stage, tinyedge::runtime::GoldenStage::kDone);
  EXPECT_EQ(from_header, std::vector<int8_t>(reference.output.begin(), reference.output.end()));
}

std::string run_cli(const std::string& args, int& status) {
  FILE* pipe = popen((std::string(TINYEDGE_CLI) + " " + args + " 2>&1").c_str(), "r");
  std::string output;
  std::array<char, 512> buffer;
  while (pipe && fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  const int raw = pipe ? pclose(pipe) : -1;
  status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return output;
}

TEST(ModelExportCHeader, RefusesWhatItCannotExportAndWritesNothing) {
  const auto dir = std::filesystem::temp_directory_path() / ("tinyedge_export_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "junk.tem") << "not a model";
  int status = 0;
  std::string out =
      run_cli("model export " + (dir / "junk.tem").string() + " --c-header -o " + (dir / "j.h").string(), status);
  EXPECT_EQ(status, 1) << out;
  EXPECT_NE(out.find("is not a model this runtime loads"), std::string::npos) << out;
  out = run_cli("model export " + (dir / "junk.tem").string() + " -o " + (dir / "j.h").string(), status);
  EXPECT_EQ(status, 1) << out;
  EXPECT_NE(out.find("choose an export format: --c-header"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir / "j.h")) << "a refused export wrote its output";
  std::filesystem::remove_all(dir);
}

}  // namespace
