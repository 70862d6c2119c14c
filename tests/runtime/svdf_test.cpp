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
#include "node_firmware/runtime/tem_format.h"
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

// keyword_scrambled_8bit's first SVDF layer as a .tem of its own.
std::vector<uint8_t> first_svdf_tem() {
  const auto tflite =
      read_bytes(shared_models_dir() / "wild" / "keyword_scrambled_8bit" / "keyword_scrambled_8bit.tflite");
  return model::compile(single_op_graph(tflite, 1), {}).tem;
}

runtime::Status load(std::vector<uint8_t> tem) {
  std::vector<uint32_t> words((tem.size() + 3) / 4);
  std::memcpy(words.data(), tem.data(), tem.size());
  runtime::Model m;
  return runtime::Model::load({reinterpret_cast<const uint8_t*>(words.data()), tem.size()}, m);
}

TEST(Svdf, LoaderRefusesCorruptParamsAndState) {
  TINYEDGE_REQUIRE_SHARED(shared_models_dir() / "wild" / "keyword_scrambled_8bit" / "keyword_scrambled_8bit.tflite");
  const std::vector<uint8_t> good = first_svdf_tem();
  ASSERT_EQ(load(good), runtime::Status::kOk);
  const auto& h = *reinterpret_cast<const runtime::TemHeader*>(good.data());
  runtime::TemOp op;
  std::memcpy(&op, good.data() + h.ops_offset, sizeof op);
  ASSERT_EQ(op.kernel, static_cast<uint16_t>(runtime::Kernel::kSvdf));
  ASSERT_EQ(op.params_bytes, 32u);
  // Params fields (int32 each): rank, input zp, state zp, output zp, feature mult/shift, output mult/shift.
  struct Case {
    int field;
    int32_t value;
    const char* what;
  };
  for (const Case& c :
       {Case{0, 0, "rank 0"}, Case{0, 7, "rank not dividing 64 filters"}, Case{0, -1, "negative rank"},
        Case{1, 200, "input zero point"}, Case{2, 300, "int8 state zero point"}, Case{3, -129, "output zero point"},
        Case{4, -5, "negative multiplier"}, Case{5, 31, "shift 31"}, Case{7, -32, "shift -32"}}) {
    std::vector<uint8_t> bad = good;
    std::memcpy(bad.data() + op.params_offset + 4 * c.field, &c.value, 4);
    EXPECT_NE(load(bad), runtime::Status::kOk) << c.what;
  }
  {
    std::vector<uint8_t> bad = good;  // params blob one int short
    runtime::TemOp o = op;
    o.params_bytes = 28;
    std::memcpy(bad.data() + h.ops_offset, &o, sizeof o);
    EXPECT_NE(load(bad), runtime::Status::kOk) << "short params blob";
  }
  {
    // The state must stay persistent: as a plain activation it would be read before written.
    std::vector<uint8_t> bad = good;
    const auto* operands = reinterpret_cast<const uint16_t*>(good.data() + op.operands_offset);
    auto* state = reinterpret_cast<runtime::TemTensor*>(bad.data() + h.tensors_offset) + operands[4];
    ASSERT_TRUE(state->flags & runtime::kTensorPersistent);
    state->flags = 0;
    EXPECT_NE(load(bad), runtime::Status::kOk) << "state not persistent";
  }
}

TEST(Svdf, StateCarriesOverInvokesUntilReset) {
  TINYEDGE_REQUIRE_SHARED(shared_models_dir() / "wild" / "keyword_scrambled_8bit" / "keyword_scrambled_8bit.tflite");
  const std::vector<uint8_t> tem = first_svdf_tem();
  std::vector<uint32_t> words((tem.size() + 3) / 4);
  std::memcpy(words.data(), tem.data(), tem.size());
  runtime::Model m;
  ASSERT_EQ(runtime::Model::load({reinterpret_cast<const uint8_t*>(words.data()), tem.size()}, m),
            runtime::Status::kOk);
  std::vector<uint32_t> arena(m.arena_bytes() / 4 + 1);
  runtime::Interpreter in;
  ASSERT_EQ(in.init(m, {reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 4}), runtime::Status::kOk);
  const auto x =
      read_bytes(shared_models_dir() / "wild" / "keyword_scrambled_8bit" / "layers_vec000" / "op_00_out.bin");
  const auto& h = *reinterpret_cast<const runtime::TemHeader*>(tem.data());
  runtime::TemOp op;
  std::memcpy(&op, tem.data() + h.ops_offset, sizeof op);
  uint16_t state_index;
  std::memcpy(&state_index, tem.data() + op.operands_offset + 2 * 4, 2);
  auto run = [&] {
    std::memcpy(in.input(0).data(), x.data(), x.size());
    EXPECT_EQ(in.invoke(), runtime::Status::kOk);
    const auto state = in.tensor_data(state_index);
    return std::vector<int8_t>(state.begin(), state.end());
  };
  const auto first = run();
  ASSERT_EQ(first.size(), 512u);
  const auto second = run();
  // Each filter's memory moved one step: the newest projections of step 1 are now second-newest.
  int carried = 0;
  for (size_t f = 0; f < 64; ++f) carried += second[f * 8 + 6] == first[f * 8 + 7];
  EXPECT_EQ(carried, 64) << "the state did not carry over one step";
  in.reset_state();
  EXPECT_EQ(run(), first) << "reset_state did not start a fresh sequence";
}

}  // namespace
}  // namespace tinyedge::testing
