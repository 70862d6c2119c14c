// SVDF (int8 with int16 state, TFLite Micro's quantisation) against TFLite Micro's own layer
// outputs for keyword_scrambled_8bit: each of its seven SVDF layers, fed the previous layer's
// reference output, must reproduce that layer's output byte for byte.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "deploy/model/compile.h"
#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"
#include "tests/runtime/shared_models.h"
#include "tests/runtime/wild_layer.h"

namespace tinyedge::testing {
namespace {

TEST(Svdf, KeywordScrambledLayersMatchTfliteMicro) {
  const auto dir = shared_models_dir() / "wild" / "keyword_scrambled_8bit";
  TINYEDGE_REQUIRE_SHARED(dir / "keyword_scrambled_8bit.tflite");
  const auto tflite = read_bytes(dir / "keyword_scrambled_8bit.tflite");
  std::ifstream index(dir / "layers_vec000" / "index.txt");
  std::string line;
  std::vector<std::pair<int, std::string>> ops;  // op index, name
  while (std::getline(index, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    int k;
    std::string name;
    s >> k >> name;
    ops.emplace_back(k, name);
  }
  int checked = 0;
  for (const auto& [k, name] : ops) {
    if (name != "SVDF") continue;
    SCOPED_TRACE("op " + std::to_string(k));
    const model::Graph g = single_op_graph(tflite, static_cast<uint32_t>(k));
    const auto c = model::compile(g, {});
    std::vector<uint32_t> words((c.tem.size() + 3) / 4);
    std::memcpy(words.data(), c.tem.data(), c.tem.size());
    runtime::Model m;
    ASSERT_EQ(runtime::Model::load({reinterpret_cast<const uint8_t*>(words.data()), c.tem.size()}, m),
              runtime::Status::kOk);
    std::vector<uint32_t> arena(m.arena_bytes() / 4 + 1);
    runtime::Interpreter in;
    ASSERT_EQ(in.init(m, {reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 4}), runtime::Status::kOk);
    char prev[32], cur[32];
    std::snprintf(prev, sizeof prev, "op_%02d_out.bin", k - 1);
    std::snprintf(cur, sizeof cur, "op_%02d_out.bin", k);
    const auto x = read_bytes(dir / "layers_vec000" / prev);
    const auto want = read_bytes(dir / "layers_vec000" / cur);
    ASSERT_EQ(x.size(), in.input(0).size());
    std::memcpy(in.input(0).data(), x.data(), x.size());
    for (auto set : {runtime::KernelSet::kReference, runtime::KernelSet::kOptimized}) {
      in.reset_state();  // TFLite Micro's vectors come from a fresh interpreter
      in.set_kernel_set(set);
      std::memcpy(in.input(0).data(), x.data(), x.size());
      ASSERT_EQ(in.invoke(), runtime::Status::kOk);
      ASSERT_EQ(in.output().size(), want.size());
      int diff = 0;
      for (size_t i = 0; i < want.size(); ++i) diff += in.output()[i] != static_cast<int8_t>(want[i]);
      EXPECT_EQ(diff, 0) << diff << " of " << want.size() << " outputs differ from TFLite Micro";
    }
    ++checked;
  }
  EXPECT_EQ(checked, 7) << "keyword_scrambled_8bit has seven SVDF layers";
}

}  // namespace
}  // namespace tinyedge::testing
