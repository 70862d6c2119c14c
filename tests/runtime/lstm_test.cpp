// UNIDIRECTIONAL_SEQUENCE_LSTM (TFLite Micro's integer LSTM: int8 activations and weights, int16
// cell state): trained_lstm_int8's LSTM layer against TFLite Micro's own layer output, both
// layouts (batch-major, time-major) and several batches, a model with zero points the mnist model
// lacks against TFLite Micro's unfolded formulas, the loader refusing every corrupted params field,
// and the compiler refusing the variants TFLite Micro does not run, by op and tensor.
#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "deploy/model/compile.h"
#include "deploy/model/op_table.h"
#include "deploy/model/planner.h"
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/lut16.h"
#include "tests/runtime/model_helpers.h"
#include "tests/runtime/shared_models.h"
#include "tests/runtime/single_op_tem.h"
#include "tests/runtime/wild_layer.h"
#include "tflite_subset_generated.h"

namespace tinyedge::testing {
namespace {

using runtime::KernelSet;
using runtime::Status;

std::filesystem::path lstm_dir() { return shared_models_dir() / "wild" / "trained_lstm_int8"; }

model::Graph lstm_layer() { return single_op_graph(read_bytes(lstm_dir() / "trained_lstm_int8.tflite"), 0); }

// Compiles g and runs it on `input` with the given kernel set; the output bytes.
std::vector<int8_t> run(const model::Graph& g, const std::vector<uint8_t>& input, KernelSet set) {
  const auto c = model::compile(g, {});
  Runner r;
  EXPECT_EQ(r.load(c.tem), Status::kOk);
  r.interp.set_kernel_set(set);
  EXPECT_EQ(r.interp.input(0).size(), input.size());
  std::memcpy(r.interp.input(0).data(), input.data(), input.size());
  EXPECT_EQ(r.interp.invoke(), Status::kOk);
  const auto out = r.interp.output(0);
  return {out.begin(), out.end()};
}

size_t differences(const std::vector<int8_t>& got, const std::vector<uint8_t>& want) {
  if (got.size() != want.size()) return want.size() + 1;
  size_t n = 0;
  for (size_t i = 0; i < want.size(); ++i) n += got[i] != static_cast<int8_t>(want[i]);
  return n;
}

TEST(Lstm, TrainedLstmLayerMatchesTfliteMicro) {
  TINYEDGE_REQUIRE_SHARED(lstm_dir() / "trained_lstm_int8.tflite");
  const auto x = read_bytes(lstm_dir() / "in_000.bin");
  const auto want = read_bytes(lstm_dir() / "layers_vec000" / "op_00_out.bin");
  ASSERT_EQ(want.size(), 28u * 20u);
  for (auto set : {KernelSet::kReference, KernelSet::kOptimized}) {
    const auto got = run(lstm_layer(), x, set);
    EXPECT_EQ(differences(got, want), 0u) << "of " << want.size() << " LSTM outputs differ from TFLite Micro ("
                                          << (set == KernelSet::kReference ? "reference" : "optimised") << ")";
  }
}

// The same sequences as two batches, batch-major [2, 28, 28] and time-major [28, 2, 28]: batch 0
// must reproduce TFLite Micro's layer output in both layouts, batch 1 its own single-batch run.
TEST(Lstm, BatchMajorAndTimeMajorBatchesAgree) {
  TINYEDGE_REQUIRE_SHARED(lstm_dir() / "trained_lstm_int8.tflite");
  const auto x0 = read_bytes(lstm_dir() / "in_000.bin");
  const auto x1 = read_bytes(lstm_dir() / "in_001.bin");
  const auto want0 = read_bytes(lstm_dir() / "layers_vec000" / "op_00_out.bin");
  const auto single1 = run(lstm_layer(), x1, KernelSet::kReference);
  constexpr int T = 28, I = 28, C = 20;
  for (bool time_major : {false, true}) {
    SCOPED_TRACE(time_major ? "time-major" : "batch-major");
    model::Graph g = lstm_layer();
    model::Op& op = g.ops[0];
    op.options.ints["time_major"] = time_major ? 1 : 0;
    g.tensors[op.inputs[0]].shape = time_major ? std::vector<int32_t>{T, 2, I} : std::vector<int32_t>{2, T, I};
    g.tensors[op.outputs[0]].shape = time_major ? std::vector<int32_t>{T, 2, C} : std::vector<int32_t>{2, T, C};
    for (int s : {18, 19}) g.tensors[op.inputs[s]].shape = {2, C};
    std::vector<uint8_t> x(2 * T * I);
    for (int t = 0; t < T; ++t) {
      for (int b = 0; b < 2; ++b) {
        const auto& src = b == 0 ? x0 : x1;
        const int row = time_major ? t * 2 + b : b * T + t;
        std::memcpy(x.data() + row * I, src.data() + t * I, I);
      }
    }
    for (auto set : {KernelSet::kReference, KernelSet::kOptimized}) {
      const auto y = run(g, x, set);
      ASSERT_EQ(y.size(), static_cast<size_t>(2 * T * C));
      size_t bad0 = 0, bad1 = 0;
      for (int t = 0; t < T; ++t) {
        for (int j = 0; j < C; ++j) {
          const int row0 = time_major ? t * 2 : t, row1 = time_major ? t * 2 + 1 : T + t;
          bad0 += y[row0 * C + j] != static_cast<int8_t>(want0[t * C + j]);
          bad1 += y[row1 * C + j] != single1[t * C + j];
        }
      }
      EXPECT_EQ(bad0, 0u) << "batch 0 differs from TFLite Micro's layer output";
      EXPECT_EQ(bad1, 0u) << "batch 1 differs from the same sequence run alone";
    }
  }
}

// TFLite Micro's integer LSTM step written out as its reference kernels compute it: FCs that
// subtract the zero points, two requantised projections added with int16 saturation, the LUT
// activations, the elementwise products. Independent of the kernel's folded biases and fused loop.
struct TfliteLstmModel {
  int n_in = 0, n_cell = 0, in_zp = 0, h_zp = 0;
  std::vector<int8_t> w[8];
  std::vector<int32_t> bias[4];
  int32_t gm[8], gs[8], fm, fs, im, is, hm, hs, tanh_mult, tanh_shift;
  int32_t clip = -1;  // quantised cell clip, -1 none

  std::vector<int8_t> run(const std::vector<int8_t>& x, int steps) const {
    std::vector<int8_t> h(n_cell, static_cast<int8_t>(h_zp)), out;
    std::vector<int16_t> c(n_cell, 0);
    auto sat16 = [](int32_t v) { return static_cast<int16_t>(std::min(32767, std::max(-32768, v))); };
    for (int t = 0; t < steps; ++t) {
      int16_t gate[4][64];
      for (int g = 0; g < 4; ++g) {
        for (int j = 0; j < n_cell; ++j) {
          int32_t ax = bias[g][j], ah = 0;
          for (int k = 0; k < n_in; ++k) ax += w[g][j * n_in + k] * (x[t * n_in + k] - in_zp);
          for (int k = 0; k < n_cell; ++k) ah += w[4 + g][j * n_cell + k] * (h[k] - h_zp);
          const int16_t px = sat16(runtime::fx::multiply_by_quantized_multiplier(ax, gm[g], gs[g]));
          const int16_t ph = sat16(runtime::fx::multiply_by_quantized_multiplier(ah, gm[4 + g], gs[4 + g]));
          const int32_t pre = sat16(px + ph) * 3;
          gate[g][j] =
              g == 2 ? runtime::kernels::lut16::tanh_scaled(pre) : runtime::kernels::lut16::logistic_scaled(pre);
        }
      }
      for (int j = 0; j < n_cell; ++j) {
        const int16_t kept = sat16(runtime::fx::multiply_by_quantized_multiplier(gate[1][j] * c[j], fm, fs));
        const int16_t added = sat16(runtime::fx::multiply_by_quantized_multiplier(gate[0][j] * gate[2][j], im, is));
        c[j] = sat16(kept + added);
        if (clip >= 0) c[j] = static_cast<int16_t>(std::max(-clip, std::min(clip, static_cast<int32_t>(c[j]))));
        const int16_t th = runtime::kernels::lut16::tanh_scaled(
            (c[j] * tanh_mult + (tanh_shift > 0 ? 1 << (tanh_shift - 1) : 0)) >> tanh_shift);
        const int32_t v = h_zp + runtime::fx::multiply_by_quantized_multiplier(th * gate[3][j], hm, hs);
        out.push_back(static_cast<int8_t>(std::min(127, std::max(-128, v))));
      }
      std::copy(out.end() - n_cell, out.end(), h.begin());
    }
    return out;
  }
};

// A small LSTM with nonzero input and hidden zero points (trained_lstm_int8 has 0 for the hidden
// state), so the folded row sums matter; checked against the unfolded formulas above, with the
// multipliers the compiler wrote (their derivation is checked by the TFLite Micro layer test);
// without and with a cell clip (0.05 at cell scale 2^-11: 102).
std::vector<int8_t> check_small_lstm(float cell_clip, int32_t want_clip) {
  constexpr int I = 5, C = 6, T = 7;
  model::Graph g;
  auto add = [&](model::DataType type, std::vector<int32_t> shape, float scale, int32_t zp,
                 std::vector<uint8_t> data = {}, bool persistent = false) {
    model::Tensor t;
    t.name = "t" + std::to_string(g.tensors.size());
    t.type = type;
    t.shape = std::move(shape);
    t.quant.scales = {scale};
    t.quant.zero_points = {zp};
    t.data = std::move(data);
    t.persistent = persistent;
    return g.add_tensor(std::move(t));
  };
  TfliteLstmModel m;
  m.n_in = I;
  m.n_cell = C;
  m.in_zp = -17;
  m.h_zp = 9;
  uint32_t seed = 12345;
  auto rnd = [&](int lo, int hi) {
    seed = seed * 1664525u + 1013904223u;
    return lo + static_cast<int>((seed >> 8) % static_cast<uint32_t>(hi - lo + 1));
  };
  model::Op op;
  op.kind = static_cast<model::OpKind>(44);
  op.inputs.assign(24, -1);
  op.inputs[0] = add(model::DataType::kInt8, {1, T, I}, 0.02f, m.in_zp);
  for (int k = 0; k < 8; ++k) {
    const int cols = k < 4 ? I : C;
    m.w[k].resize(static_cast<size_t>(C * cols));
    for (auto& v : m.w[k]) v = static_cast<int8_t>(rnd(-127, 127));
    std::vector<uint8_t> bytes(m.w[k].size());
    std::memcpy(bytes.data(), m.w[k].data(), bytes.size());
    op.inputs[1 + k] = add(model::DataType::kInt8, {C, cols}, 0.004f + 0.001f * k, 0, bytes);
  }
  for (int gi = 0; gi < 4; ++gi) {
    m.bias[gi].resize(C);
    for (auto& v : m.bias[gi]) v = rnd(-3000, 3000);
    std::vector<uint8_t> bytes(C * 4);
    std::memcpy(bytes.data(), m.bias[gi].data(), bytes.size());
    op.inputs[12 + gi] = add(model::DataType::kInt32, {C}, 8e-5f, 0, bytes);
  }
  op.inputs[18] = add(model::DataType::kInt8, {1, C}, 0.0078f, m.h_zp, {}, true);
  op.inputs[19] = add(model::DataType::kInt16, {1, C}, 1.0f / 2048, 0, {}, true);
  op.outputs = {add(model::DataType::kInt8, {1, T, C}, 0.0078f, m.h_zp)};
  g.inputs = {op.inputs[0]};
  g.outputs = op.outputs;
  op.options.floats["cell_clip"] = cell_clip;
  g.ops.push_back(op);
  const auto c = model::compile(g, {});

  // The multipliers as the compiler wrote them (the params blob of the one op).
  const auto& h = *reinterpret_cast<const runtime::TemHeader*>(c.tem.data());
  runtime::TemOp top;
  std::memcpy(&top, c.tem.data() + h.ops_offset, sizeof top);
  EXPECT_EQ(top.params_bytes, 27u * 4);
  if (top.params_bytes != 27u * 4) return {};
  int32_t p[27];
  std::memcpy(p, c.tem.data() + top.params_offset, sizeof p);
  EXPECT_EQ(p[0], 0) << "batch-major";
  EXPECT_EQ(p[1], m.h_zp);
  EXPECT_EQ(p[2], want_clip) << "quantised cell clip";
  m.clip = p[2];
  m.tanh_mult = p[3];
  m.tanh_shift = p[4];
  EXPECT_EQ(m.tanh_mult, 3 << 1) << "cell scale 2^-11: one bit left of Q3.12";
  for (int k = 0; k < 8; ++k) {
    m.gm[k] = p[5 + k];
    m.gs[k] = p[13 + k];
  }
  m.fm = p[21], m.fs = p[22], m.im = p[23], m.is = p[24], m.hm = p[25], m.hs = p[26];

  std::vector<int8_t> x(T * I);
  for (auto& v : x) v = static_cast<int8_t>(rnd(-128, 127));
  const auto want = m.run(x, T);
  std::vector<uint8_t> xb(x.size());
  std::memcpy(xb.data(), x.data(), x.size());
  for (auto set : {KernelSet::kReference, KernelSet::kOptimized}) {
    const auto got = run(g, xb, set);
    EXPECT_EQ(got.size(), want.size());
    if (got.size() != want.size()) continue;
    size_t bad = 0;
    for (size_t i = 0; i < want.size(); ++i) bad += got[i] != want[i];
    EXPECT_EQ(bad, 0u) << "outputs differ from TFLite Micro's unfolded LSTM step";
  }
  return want;
}

TEST(Lstm, ZeroPointsFoldIntoBiasesExactly) { check_small_lstm(0.0f, -1); }

TEST(Lstm, CellClipClampsTheCellState) {
  const auto clipped = check_small_lstm(0.05f, 102);
  EXPECT_NE(clipped, check_small_lstm(0.0f, -1)) << "the clip changes nothing here: the check proves nothing";
}

// An odd-sized int8 buffer beside int16 state (micro_speech_lstm's input is 49 x 257 bytes): the
// planner puts every buffer at a multiple of its element size, which the loader requires.
TEST(Lstm, PlannerAlignsEachBufferToItsElementSize) {
  const std::vector<model::PlanBuffer> bufs = {{35, 0, 2, 1}, {12, 0, 2, 2}, {7, 1, 1, 1}, {40, 0, 2, 4}};
  const model::Plan p = model::plan_arena(bufs, {});
  for (size_t i = 0; i < bufs.size(); ++i) {
    EXPECT_EQ(p.offsets[i] % bufs[i].align, 0u) << "buffer " << i << " at offset " << p.offsets[i];
  }
  const model::Plan unaligned = model::plan_arena({{35, 0, 2, 1}, {7, 1, 1, 1}}, {});
  EXPECT_EQ(unaligned.arena_bytes, 42u) << "int8-only plans must not grow";
}

// The state carries over invokes (TFLite Micro keeps it in variable tensors) until reset.
TEST(Lstm, StateCarriesOverInvokesUntilReset) {
  TINYEDGE_REQUIRE_SHARED(lstm_dir() / "trained_lstm_int8.tflite");
  const auto x = read_bytes(lstm_dir() / "in_000.bin");
  const auto c = model::compile(lstm_layer(), {});
  Runner r;
  ASSERT_EQ(r.load(c.tem), Status::kOk);
  auto once = [&] {
    std::memcpy(r.interp.input(0).data(), x.data(), x.size());
    EXPECT_EQ(r.interp.invoke(), Status::kOk);
    const auto o = r.interp.output(0);
    return std::vector<int8_t>(o.begin(), o.end());
  };
  const auto first = once();
  EXPECT_NE(once(), first) << "the second invoke should start from the first one's state";
  r.interp.reset_state();
  EXPECT_EQ(once(), first) << "reset_state did not start a fresh sequence";
}

// --- loader: every params field, the packed biases and the operands, corrupted one at a time ---

struct Blob {
  std::vector<uint8_t> tem;
  runtime::TemOp op{};
  uint32_t ops_offset = 0, tensors_offset = 0;
};

Blob lstm_blob() {
  Blob b;
  b.tem = model::compile(lstm_layer(), {}).tem;
  const auto& h = *reinterpret_cast<const runtime::TemHeader*>(b.tem.data());
  b.ops_offset = h.ops_offset;
  b.tensors_offset = h.tensors_offset;
  std::memcpy(&b.op, b.tem.data() + h.ops_offset, sizeof b.op);
  return b;
}

Status load(const std::vector<uint8_t>& tem) {
  Runner r;
  return r.load(tem);
}

TEST(Lstm, LoaderRefusesEveryCorruptParamsField) {
  TINYEDGE_REQUIRE_SHARED(lstm_dir() / "trained_lstm_int8.tflite");
  const Blob good = lstm_blob();
  ASSERT_EQ(load(good.tem), Status::kOk);
  ASSERT_EQ(good.op.kernel, static_cast<uint16_t>(runtime::Kernel::kUnidirectionalSequenceLstm));
  ASSERT_EQ(good.op.params_bytes, 27u * 4);
  struct Case {
    int field;
    int32_t value;
    const char* what;
  };
  // Fields: 0 time_major, 1 hidden zp, 2 cell clip, 3/4 tanh multiplier/shift, 5..12 gate
  // multipliers, 13..20 gate shifts, 21..26 forget/input/hidden multiplier and shift.
  std::vector<Case> cases = {
      {0, 2, "time_major 2"},
      {0, -1, "time_major -1"},
      {1, 128, "hidden zero point 128"},
      {1, -129, "hidden zp -129"},
      {2, -2, "cell clip -2"},
      {2, 40000, "cell clip beyond int16"},
      {3, 0, "tanh multiplier 0"},
      {3, 49153, "tanh multiplier overflowing int32"},
      {4, -1, "tanh shift -1"},
      {4, 31, "tanh shift 31"},
  };
  for (int k = 0; k < 8; ++k) {
    cases.push_back({5 + k, -1, "negative gate multiplier"});
    cases.push_back({13 + k, 31, "gate shift 31"});
    cases.push_back({13 + k, -32, "gate shift -32"});
  }
  for (int f : {21, 23, 25}) {
    cases.push_back({f, -7, "negative elementwise multiplier"});
    cases.push_back({f + 1, 31, "elementwise shift 31"});
    cases.push_back({f + 1, -32, "elementwise shift -32"});
  }
  for (const Case& c : cases) {
    std::vector<uint8_t> bad = good.tem;
    std::memcpy(bad.data() + good.op.params_offset + 4 * c.field, &c.value, 4);
    EXPECT_NE(load(bad), Status::kOk) << "field " << c.field << ": " << c.what;
  }
  auto with_op = [&](auto change) {
    std::vector<uint8_t> bad = good.tem;
    runtime::TemOp o = good.op;
    change(o);
    std::memcpy(bad.data() + good.ops_offset, &o, sizeof o);
    return load(bad);
  };
  EXPECT_NE(with_op([](runtime::TemOp& o) { o.params_bytes -= 4; }), Status::kOk) << "params blob one field short";
  EXPECT_NE(with_op([](runtime::TemOp& o) { o.packed_bytes -= 4; }), Status::kOk) << "packed biases one short";
  EXPECT_NE(with_op([](runtime::TemOp& o) { o.packed_bytes = 0; }), Status::kOk) << "no packed biases";
  EXPECT_NE(with_op([](runtime::TemOp& o) { o.packed_bytes += 4; }), Status::kOk) << "packed biases one too many";
  EXPECT_NE(with_op([](runtime::TemOp& o) { o.input_count = 10; }), Status::kOk) << "cell state operand dropped";
  EXPECT_NE(with_op([](runtime::TemOp& o) { o.packed_offset = 0x7FFFFFF0; }), Status::kOk) << "packed beyond blob";

  const auto* operands = reinterpret_cast<const uint16_t*>(good.tem.data() + good.op.operands_offset);
  auto with_tensor = [&](int operand, auto change) {
    std::vector<uint8_t> bad = good.tem;
    auto* t = reinterpret_cast<runtime::TemTensor*>(bad.data() + good.tensors_offset) + operands[operand];
    change(*t);
    return load(bad);
  };
  EXPECT_NE(with_tensor(9, [](runtime::TemTensor& t) { t.flags = 0; }), Status::kOk) << "hidden state not persistent";
  EXPECT_NE(with_tensor(10, [](runtime::TemTensor& t) { t.flags = 0; }), Status::kOk) << "cell state not persistent";
  EXPECT_NE(with_tensor(10, [](runtime::TemTensor& t) { t.type = static_cast<uint8_t>(runtime::TemType::kInt8); }),
            Status::kOk)
      << "int8 cell state";
  EXPECT_NE(with_tensor(3, [](runtime::TemTensor& t) { t.dims[1] = 27; }), Status::kOk) << "input weights 20x27";
  EXPECT_NE(with_tensor(6, [](runtime::TemTensor& t) { t.dims[0] = 19; }), Status::kOk) << "recurrent weights 19x20";
  {
    // Operand swap: the cell state where the hidden state belongs.
    std::vector<uint8_t> bad = good.tem;
    auto* ops = reinterpret_cast<uint16_t*>(bad.data() + good.op.operands_offset);
    std::swap(ops[9], ops[10]);
    EXPECT_NE(load(bad), Status::kOk) << "hidden and cell state swapped";
  }
}

// Every byte of the compiled layer flipped in turn: refused at load, or runs within its tensors
// (under the asan preset any out-of-bounds access fails the test).
TEST(Lstm, EverySingleByteCorruptionIsRefusedOrRunsSafely) {
  TINYEDGE_REQUIRE_SHARED(lstm_dir() / "trained_lstm_int8.tflite");
  const Blob good = lstm_blob();
  // Weights and folded biases are data: any value runs, so only a sample of those bytes is run
  // (the test stays quick); every other byte is run whenever the loader accepts the corruption.
  std::vector<bool> data(good.tem.size(), false);
  const auto& h = *reinterpret_cast<const runtime::TemHeader*>(good.tem.data());
  for (uint16_t t = 0; t < h.tensor_count; ++t) {
    runtime::TemTensor r;
    std::memcpy(&r, good.tem.data() + good.tensors_offset + t * sizeof r, sizeof r);
    if (r.flags & runtime::kTensorConstant) std::fill_n(data.begin() + r.offset, r.bytes, true);
  }
  std::fill_n(data.begin() + good.op.packed_offset, good.op.packed_bytes, true);
  size_t refused = 0, ran = 0;
  for (size_t i = 0; i < good.tem.size(); ++i) {
    for (uint8_t x : {uint8_t{0x01}, uint8_t{0x80}}) {
      auto bad = good.tem;
      bad[i] ^= x;
      OpRun r;  // refuses an arena a corrupted header blows up beyond 16 MiB, as a node would
      if (r.load(bad) != Status::kOk) {
        ++refused;
        continue;
      }
      if (data[i] && i % 61 != 0) continue;
      EXPECT_EQ(r.interp.invoke(), Status::kOk) << "byte " << i;
      ++ran;
    }
  }
  EXPECT_GT(refused, 0u);
  EXPECT_GT(ran, 0u);
}

// --- compiler: the variants TFLite Micro's LSTM does not run, refused by op and tensor ---

std::string compile_error(const model::Graph& g) {
  try {
    model::compile(g, {});
  } catch (const model::CompileError& e) {
    return e.what();
  }
  return "";
}

TEST(Lstm, CompilerRefusesUnsupportedVariantsNamingTheTensor) {
  TINYEDGE_REQUIRE_SHARED(lstm_dir() / "trained_lstm_int8.tflite");
  auto extra = [](model::Graph& g, model::DataType type, std::vector<int32_t> shape, const char* name) {
    model::Tensor t;
    t.name = name;
    t.type = type;
    t.shape = shape;
    t.quant.scales = {0.01f};
    t.quant.zero_points = {0};
    size_t n = 1;
    for (int32_t d : shape) n *= static_cast<size_t>(d);
    t.data.assign(n * (type == model::DataType::kInt8 ? 1 : type == model::DataType::kInt16 ? 2 : 4), 1);
    return g.add_tensor(std::move(t));
  };
  struct Case {
    const char* what;
    std::function<void(model::Graph&)> change;
    std::vector<std::string> expect;  // substrings of the message
  };
  const std::vector<Case> cases = {
      {"peephole",
       [&](model::Graph& g) { g.ops[0].inputs[10] = extra(g, model::DataType::kInt16, {20}, "peep_f"); },
       {"UNIDIRECTIONAL_SEQUENCE_LSTM", "peep_f", "peephole"}},
      {"projection",
       [&](model::Graph& g) {
         g.ops[0].inputs[16] = extra(g, model::DataType::kInt8, {20, 20}, "proj_w");
       },
       {"proj_w", "projection weights"}},
      {"projection bias",
       [&](model::Graph& g) { g.ops[0].inputs[17] = extra(g, model::DataType::kInt32, {20}, "proj_b"); },
       {"proj_b", "projection bias"}},
      {"layer norm",
       [&](model::Graph& g) { g.ops[0].inputs[21] = extra(g, model::DataType::kInt16, {20}, "ln_f"); },
       {"ln_f", "layer norm"}},
      {"CIFG", [](model::Graph& g) { g.ops[0].inputs[1] = g.ops[0].inputs[5] = -1; }, {"CIFG"}},
      {"per-channel weights",
       [](model::Graph& g) {
         auto& q = g.tensors[g.ops[0].inputs[2]].quant;
         q.scales.assign(20, q.scales[0]);
         q.zero_points.assign(20, 0);
       },
       {"per-tensor"}},
      {"asymmetric weights",
       [](model::Graph& g) { g.tensors[g.ops[0].inputs[6]].quant.zero_points = {3}; },
       {"symmetric"}},
      {"int16 input",
       [](model::Graph& g) {
         g.tensors[g.ops[0].inputs[0]].type = model::DataType::kInt16;
         g.tensors[g.ops[0].outputs[0]].type = model::DataType::kInt16;
       },
       {"int16 input"}},
      {"cell state not variable",
       [](model::Graph& g) { g.tensors[g.ops[0].inputs[19]].persistent = false; },
       {"cell state", "variable"}},
      {"cell state zero point",
       [](model::Graph& g) { g.tensors[g.ops[0].inputs[19]].quant.zero_points = {4}; },
       {"zero point 0"}},
      {"bias absent", [](model::Graph& g) { g.ops[0].inputs[13] = -1; }, {"forget gate bias"}},
      {"wrong weight shape",
       [](model::Graph& g) {
         model::Tensor& t = g.tensors[g.ops[0].inputs[7]];
         t.shape = {20, 10};
         t.data.resize(200);
       },
       {"recurrent weights of the cell gate"}},
  };
  for (const Case& c : cases) {
    model::Graph g = lstm_layer();
    c.change(g);
    const std::string e = compile_error(g);
    ASSERT_FALSE(e.empty()) << c.what << ": compiled";
    for (const std::string& s : c.expect) EXPECT_NE(e.find(s), std::string::npos) << c.what << ": " << e;
  }
}

// The options TFLite Micro's LSTM cannot run are refused at import, by op.
TEST(Lstm, ImportRefusesOptionsTfliteMicroDoesNotRun) {
  namespace fb = tinyedge::tflite_fb;
  auto import_error = [](int8_t activation, bool diagonal) -> std::string {
    flatbuffers::FlatBufferBuilder b;
    const auto o = fb::CreateUnidirectionalSequenceLSTMOptions(b, activation, 0.0f, 0.0f, false, false, diagonal);
    const std::vector<int32_t> ins(24, -1), outs{0};
    b.Finish(fb::CreateOperator(b, 0, b.CreateVector(ins), b.CreateVector(outs),
                                fb::BuiltinOptions_UnidirectionalSequenceLSTMOptions, o.Union()));
    const auto* op = flatbuffers::GetRoot<fb::Operator>(b.GetBufferPointer());
    model::Op out;
    try {
      model::find_op(44)->import(*op, out, "op 0 UNIDIRECTIONAL_SEQUENCE_LSTM");
    } catch (const model::ImportError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(import_error(4, false), "") << "TANH must import";
  const std::string relu = import_error(1, false);
  EXPECT_NE(relu.find("UNIDIRECTIONAL_SEQUENCE_LSTM"), std::string::npos) << relu;
  EXPECT_NE(relu.find("cell activation 1"), std::string::npos) << relu;
  const std::string diagonal = import_error(4, true);
  EXPECT_NE(diagonal.find("diagonal recurrent weights"), std::string::npos) << diagonal;
}

}  // namespace
}  // namespace tinyedge::testing
