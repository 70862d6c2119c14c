// The int16 SOFTMAX, LOGISTIC and TANH and the int8 HARD_SWISH through the compiler: TFLite Micro's
// Prepare (tables, multipliers) resolved offline, checked against TFLite Micro's kernel-test data
// and tolerances and the exact functions computed here; and what the compiler refuses, by op,
// tensor and problem.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "deploy/model/compile.h"
#include "deploy/model/graph.h"
#include "deploy/model/tflite_import.h"
#include "tests/runtime/model_helpers.h"
#include "tflite_subset_generated.h"

namespace tinyedge::testing {
namespace {

using model::DataType;
using model::Graph;
using model::OpKind;

constexpr OpKind kLogistic = static_cast<OpKind>(14);
constexpr OpKind kTanh = static_cast<OpKind>(28);
constexpr OpKind kHardSwish = static_cast<OpKind>(117);

Graph unary(OpKind kind, DataType in_type, std::vector<int32_t> shape, float in_scale, int32_t in_zp, DataType out_type,
            float out_scale, int32_t out_zp) {
  Graph g;
  const int in = g.add_activation("x", shape, in_scale, in_zp);
  g.tensors[in].type = in_type;
  const int out = g.add_activation("y", shape, out_scale, out_zp);
  g.tensors[out].type = out_type;
  g.add_op(kind, {in}, out);
  g.inputs = {in};
  g.outputs = {out};
  return g;
}

std::string compile_error(const Graph& g) {
  try {
    model::compile(g, {});
  } catch (const model::CompileError& e) {
    return e.what();
  }
  return "";
}

template <class Out, class In>
std::vector<Out> compile_and_run(const Graph& g, const std::vector<In>& input) {
  const auto compiled = model::compile(g, {});
  Runner r;
  EXPECT_EQ(r.load(compiled.tem), runtime::Status::kOk);
  if (!r.model.loaded()) return {};
  std::vector<Out> result;
  for (auto set : {runtime::KernelSet::kOptimized, runtime::KernelSet::kReference}) {
    r.interp.set_kernel_set(set);
    std::memcpy(r.interp.input(0).data(), input.data(), input.size() * sizeof(In));
    EXPECT_EQ(r.interp.invoke(), runtime::Status::kOk);
    const auto out = r.interp.output(0);
    std::vector<Out> got(out.size() / sizeof(Out));
    std::memcpy(got.data(), out.data(), got.size() * sizeof(Out));
    if (!result.empty()) {
      EXPECT_EQ(got, result) << "optimised and reference kernels differ";
    }
    result = got;
  }
  return result;
}

// TFLite Micro's softmax kernel test data: rows of 1..5 (1-D and 2-D), their published
// probabilities, int16 input at scale 0.1 and its tolerance of 7 output steps (1/32768).
const float kRow[5] = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f};
const double kGoldenRow[5] = {0.011656231, 0.031684921, 0.086128544, 0.234121657, 0.636408647};

TEST(Int16Softmax, MatchesTfliteMicrosGoldenRowsWithinItsTolerance) {
  const auto g = unary(OpKind::kSoftmax, DataType::kInt16, {2, 5}, 0.1f, 0, DataType::kInt16, 1.0f / 32768, 0);
  // Second row: the first negated (TFLite Micro's 2-D case: -1..-5 gives the reversed order).
  std::vector<int16_t> in;
  for (float v : kRow) in.push_back(static_cast<int16_t>(std::lround(v / 0.1f)));
  for (float v : kRow) in.push_back(static_cast<int16_t>(std::lround(-v / 0.1f)));
  const auto out = compile_and_run<int16_t>(g, in);
  ASSERT_EQ(out.size(), 10u);
  for (int c = 0; c < 5; ++c) {
    EXPECT_NEAR(out[c], kGoldenRow[c] * 32768, 7.0) << "row 0 class " << c;
    EXPECT_NEAR(out[5 + c], kGoldenRow[4 - c] * 32768, 7.0) << "row 1 class " << c;
  }
}

TEST(Int16Softmax, WideRowsStayCloseToTheExactSoftmax) {
  // 40 classes at input scale 1/2048 and beta 0.7, inputs spread over the int16 range: the tables
  // cover exp on [-10, 0]; every output within 7 steps of the exact value computed here.
  auto g = unary(OpKind::kSoftmax, DataType::kInt16, {3, 40}, 1.0f / 2048, 0, DataType::kInt16, 1.0f / 32768, 0);
  g.ops[0].options.beta = 0.7f;
  std::vector<int16_t> in(120);
  uint32_t state = 2463534242u;
  for (auto& v : in) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    v = static_cast<int16_t>(static_cast<int32_t>(state % 12000) - 6000);
  }
  const auto out = compile_and_run<int16_t>(g, in);
  ASSERT_EQ(out.size(), in.size());
  for (int r = 0; r < 3; ++r) {
    double max_in = -1e9, sum = 0;
    for (int c = 0; c < 40; ++c) max_in = std::max(max_in, in[r * 40 + c] / 2048.0);
    for (int c = 0; c < 40; ++c) sum += std::exp(0.7 * (in[r * 40 + c] / 2048.0 - max_in));
    for (int c = 0; c < 40; ++c) {
      const double want = std::exp(0.7 * (in[r * 40 + c] / 2048.0 - max_in)) / sum * 32768;
      EXPECT_NEAR(out[r * 40 + c], want, 7.0) << "row " << r << " class " << c;
    }
  }
}

TEST(Int8Softmax, AThousandClassesRunAndMoreThan4096AreRefused) {
  // An ImageNet-sized head: 1000 int8 logits at scale 0.1, outputs within 1/256 of the exact
  // softmax (int8 output) and within 8/65536 (int16 output).
  std::vector<int8_t> in(1000);
  for (int i = 0; i < 1000; ++i) in[i] = static_cast<int8_t>((i * 37) % 151 - 60);
  double max_in = -1e9, sum = 0;
  for (int8_t v : in) max_in = std::max(max_in, v * 0.1);
  for (int8_t v : in) sum += std::exp(v * 0.1 - max_in);
  const auto out8 = compile_and_run<int8_t>(
      unary(OpKind::kSoftmax, DataType::kInt8, {1, 1000}, 0.1f, 0, DataType::kInt8, 1.0f / 256, -128), in);
  const auto out16 = compile_and_run<int16_t>(
      unary(OpKind::kSoftmax, DataType::kInt8, {1, 1000}, 0.1f, 0, DataType::kInt16, 1.0f / 65536, -32768), in);
  ASSERT_EQ(out8.size(), 1000u);
  ASSERT_EQ(out16.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    const double p = std::exp(in[i] * 0.1 - max_in) / sum;
    EXPECT_NEAR(out8[i], p * 256 - 128, 1.0) << "class " << i;
    EXPECT_NEAR(out16[i], p * 65536 - 32768, 8.0) << "class " << i;
  }
  EXPECT_NE(
      compile_error(unary(OpKind::kSoftmax, DataType::kInt8, {1, 4097}, 0.1f, 0, DataType::kInt8, 1.0f / 256, -128))
          .find("tensor 0 'x': softmax of an int8 input over more than 4096 classes is not supported"),
      std::string::npos);
}

TEST(Int16Softmax, CompilerNamesTheQuantisationItNeeds) {
  EXPECT_NE(compile_error(unary(OpKind::kSoftmax, DataType::kInt16, {1, 4}, 0.1f, 0, DataType::kInt16, 0.1f, 0))
                .find("op 0 (SOFTMAX), tensor 1 'y': int16 softmax output must have scale 1/32768 and zero point 0"),
            std::string::npos);
  EXPECT_NE(compile_error(unary(OpKind::kSoftmax, DataType::kInt16, {1, 4}, 0.1f, 5, DataType::kInt16, 1.0f / 32768, 0))
                .find("tensor 0 'x': int16 softmax input must have zero point 0"),
            std::string::npos);
  EXPECT_NE(compile_error(unary(OpKind::kSoftmax, DataType::kInt8, {1, 4}, 0.1f, 0, DataType::kInt16, 1.0f / 65536, 0))
                .find("tensor 1 'y': int16 softmax output of an int8 input must have scale 1/65536 and zero point "
                      "-32768"),
            std::string::npos);
  EXPECT_NE(compile_error(unary(OpKind::kSoftmax, DataType::kInt16, {1, 4}, 0.1f, 0, DataType::kInt8, 1.0f / 256, -128))
                .find("tensor 1 'y': an int16 softmax input needs an int16 output"),
            std::string::npos);
}

std::vector<int16_t> every_int16() {
  std::vector<int16_t> v(65536);
  for (int i = 0; i < 65536; ++i) v[i] = static_cast<int16_t>(i - 32768);
  return v;
}

TEST(Int16LogisticTanh, AnyInputScaleIsRescaledOntoTheTable) {
  // Scales that are not powers of two take TFLite's integer multiplier (scale * 3 * 4096 doubled up
  // to 2^14) and shift; TFLite Micro's kernel tests use 32/65536 with output 2/65536 = 2^-15.
  for (float scale : {32.0f / 65536, 0.001f, 0.0003f, 1.0f / 4096}) {
    const auto in = every_int16();
    const auto logistic = compile_and_run<int16_t>(
        unary(kLogistic, DataType::kInt16, {65536}, scale, 0, DataType::kInt16, 2.0f / 65536, 0), in);
    const auto tanh = compile_and_run<int16_t>(
        unary(kTanh, DataType::kInt16, {65536}, scale, 0, DataType::kInt16, 2.0f / 65536, 0), in);
    ASSERT_EQ(logistic.size(), in.size());
    ASSERT_EQ(tanh.size(), in.size());
    double worst_logistic = 0, worst_tanh = 0;
    for (int i = 0; i < 65536; ++i) {
      const double x = in[i] * static_cast<double>(scale);
      worst_logistic = std::max(worst_logistic, std::fabs(logistic[i] - 32768 / (1 + std::exp(-x))));
      worst_tanh = std::max(worst_tanh, std::fabs(tanh[i] - 32768 * std::tanh(x)));
    }
    EXPECT_LE(worst_logistic, 4.0) << "LOGISTIC at input scale " << scale;
    EXPECT_LE(worst_tanh, 6.0) << "TANH at input scale " << scale;
  }
}

TEST(Int16LogisticTanh, CompilerNamesTheQuantisationItNeeds) {
  EXPECT_NE(compile_error(unary(kLogistic, DataType::kInt16, {4}, 0.001f, 0, DataType::kInt16, 1.0f / 32768, 3))
                .find("op 0 (LOGISTIC), tensor 1 'y': int16 LOGISTIC output must have scale 2^-15 and zero point 0"),
            std::string::npos);
  EXPECT_NE(compile_error(unary(kTanh, DataType::kInt16, {4}, 0.001f, 0, DataType::kInt16, 1.0f / 20000, 0))
                .find("op 0 (TANH), tensor 1 'y': int16 TANH output must have scale 2^-15"),
            std::string::npos);
  EXPECT_NE(compile_error(unary(kTanh, DataType::kInt16, {4}, 0.001f, 2, DataType::kInt16, 1.0f / 32768, 0))
                .find("tensor 0 'x': int16 TANH input must have zero point 0"),
            std::string::npos);
  EXPECT_NE(compile_error(unary(kLogistic, DataType::kInt16, {4}, 8.0f, 0, DataType::kInt16, 1.0f / 32768, 0))
                .find("tensor 0 'x': int16 LOGISTIC input scale too large"),
            std::string::npos);
}

TEST(HardSwish, CompiledMatchesTheFunctionAcrossQuantisations) {
  std::vector<int8_t> in(256);
  for (int i = 0; i < 256; ++i) in[i] = static_cast<int8_t>(i - 128);
  struct Case {
    float in_scale;
    int32_t in_zp;
    float out_scale;
    int32_t out_zp;
  };
  for (const Case& k : {Case{0.05f, -10, 0.03f, -100}, Case{0.1f, 0, 0.05f, -60}, Case{0.02353f, 20, 0.02f, -128},
                        Case{0.5f, -128, 0.25f, 5}}) {
    const auto out = compile_and_run<int8_t>(
        unary(kHardSwish, DataType::kInt8, {1, 256}, k.in_scale, k.in_zp, DataType::kInt8, k.out_scale, k.out_zp), in);
    ASSERT_EQ(out.size(), 256u);
    for (int i = 0; i < 256; ++i) {
      const double x = (in[i] - k.in_zp) * static_cast<double>(k.in_scale);
      const double want = std::clamp(
          x * std::min(6.0, std::max(0.0, x + 3)) / 6 / static_cast<double>(k.out_scale) + k.out_zp, -128.0, 127.0);
      EXPECT_LE(std::fabs(out[i] - want), 1.5)
          << "input " << int(in[i]) << " at scales " << k.in_scale << "/" << k.out_scale << ": got " << int(out[i]);
    }
  }
}

TEST(HardSwish, CompilerRefusesAnOutputScaleTfliteMicroRefuses) {
  // (input scale / 128) / output scale above 1: TFLite Micro's Prepare refuses it.
  EXPECT_NE(
      compile_error(unary(kHardSwish, DataType::kInt8, {1, 4}, 1.0f, 0, DataType::kInt8, 0.001f, 0))
          .find("op 0 (HARD_SWISH), tensor 1 'y': HARD_SWISH output scale must be at least the input scale / 128"),
      std::string::npos);
  EXPECT_NE(compile_error(unary(kHardSwish, DataType::kInt16, {1, 4}, 0.01f, 0, DataType::kInt16, 0.01f, 0))
                .find("tensor 0 'x': int16: type not supported here (HARD_SWISH takes int8)"),
            std::string::npos);
}

Graph binary(OpKind kind, DataType type, float sa, int32_t za, float sb, int32_t zb, float so, int32_t zo) {
  Graph g;
  const int a = g.add_activation("a", {1, 6}, sa, za);
  const int b = g.add_activation("b", {1, 6}, sb, zb);
  const int y = g.add_activation("y", {1, 6}, so, zo);
  for (int t : {a, b, y}) g.tensors[t].type = type;
  g.add_op(kind, {a, b}, y);
  g.inputs = {a, b};
  g.outputs = {y};
  return g;
}

TEST(Int16Add, RunsWithZeroPointsAsTfliteMicrosGeneralPath) {
  // a: scale 2^-10 zero point 100; b: 2^-11, -50; y: 2^-9, 7. y = (a - 100) / 2 + (b + 50) / 4 + 7,
  // inputs picked so that the exact sum is an integer (TFLite's requantisation rounds only noise).
  const auto compiled =
      model::compile(binary(OpKind::kAdd, DataType::kInt16, 1.0f / 1024, 100, 1.0f / 2048, -50, 1.0f / 512, 7), {});
  Runner r;
  ASSERT_EQ(r.load(compiled.tem), runtime::Status::kOk);
  const std::vector<int16_t> a{100, 102, -900, 30000, -32768, 32766};
  const std::vector<int16_t> b{-50, -46, 1950, 6, -32766, 32762};
  std::vector<int16_t> want;
  for (size_t i = 0; i < a.size(); ++i) {
    const int32_t exact = (a[i] - 100) / 2 + (b[i] + 50) / 4 + 7;
    want.push_back(static_cast<int16_t>(std::clamp(exact, -32768, 32767)));
  }
  for (auto set : {runtime::KernelSet::kOptimized, runtime::KernelSet::kReference}) {
    r.interp.set_kernel_set(set);
    std::memcpy(r.interp.input(0).data(), a.data(), 12);
    std::memcpy(r.interp.input(1).data(), b.data(), 12);
    ASSERT_EQ(r.interp.invoke(), runtime::Status::kOk);
    std::vector<int16_t> got(6);
    std::memcpy(got.data(), r.interp.output(0).data(), 12);
    EXPECT_EQ(got, want);
  }
}

TEST(Int16Add, CompilerNamesZeroPointsTfliteMicroDoesNotRun) {
  EXPECT_NE(compile_error(binary(OpKind::kAdd, DataType::kInt16, 0.001f, 32767, 0.001f, 0, 0.002f, 0))
                .find("tensor 0 'a': int16 input zero point must lie in -32766..32766"),
            std::string::npos);
  EXPECT_NE(compile_error(binary(static_cast<OpKind>(41), DataType::kInt16, 0.001f, 0, 0.001f, 4, 0.002f, 0))
                .find("op 0 (SUB), tensor 1 'b': int16 SUB needs input zero point 0"),
            std::string::npos);
}

template <class Out, class In>
std::vector<Out> requantise(DataType from, DataType to, float si, int32_t zi, float so, int32_t zo,
                            const std::vector<In>& in) {
  return compile_and_run<Out>(
      unary(static_cast<OpKind>(114), from, {static_cast<int32_t>(in.size())}, si, zi, to, so, zo), in);
}

TEST(Quantize, RequantisesBetweenEveryPairTfliteMicroRuns) {
  // Power-of-two scales make the ratio exact: int16 -> int32 times 4 (keyword_scrambled_8bit's
  // last op is int16 -> int32), with zero points on both sides.
  const std::vector<int16_t> i16{-32768, -1, 0, 100, 32767};
  std::vector<int32_t> want32;
  for (int16_t x : i16) want32.push_back(4 * (x - 100) + 70000);
  EXPECT_EQ((requantise<int32_t>(DataType::kInt16, DataType::kInt32, 1.0f / 1024, 100, 1.0f / 4096, 70000, i16)),
            want32);
  // int8 -> int32 times 8.
  EXPECT_EQ((requantise<int32_t>(DataType::kInt8, DataType::kInt32, 1.0f / 8, -3, 1.0f / 64, -5,
                                 std::vector<int8_t>{-128, -3, 0, 127})),
            (std::vector<int32_t>{-1005, -5, 19, 1035}));
  // int32 -> int8 and int16 divided by 16 (values off the rounding ties), saturating.
  EXPECT_EQ((requantise<int8_t>(DataType::kInt32, DataType::kInt8, 1.0f / 256, 16, 1.0f / 16, -10,
                                std::vector<int32_t>{16, 16 + 16 * 5 + 3, 16 - 16 * 7 - 3, 100000, -100000})),
            (std::vector<int8_t>{-10, -5, -17, 127, -128}));
  EXPECT_EQ((requantise<int16_t>(DataType::kInt32, DataType::kInt16, 1.0f / 256, 0, 1.0f / 16, 300,
                                 std::vector<int32_t>{0, 16 * 1000 + 2, -16 * 2000 - 2, 1 << 30, -(1 << 30)})),
            (std::vector<int16_t>{300, 1300, -1700, 32767, -32768}));
}

TEST(Quantize, CompilerRefusesPairsTfliteMicroDoesNotRun) {
  EXPECT_NE(compile_error(unary(static_cast<OpKind>(114), DataType::kInt32, {4}, 0.01f, 0, DataType::kInt32, 0.02f, 0))
                .find("op 0 (QUANTIZE), tensor 1 'y': int32 -> int32 is not supported"),
            std::string::npos);
}

// A TFLite file of independent one-op chains: op k reads tensor 2k and writes tensor 2k+1, each
// tensor of its own type and quantisation; every chain's input and output are graph inputs/outputs.
struct ChainTensor {
  const char* name;
  int8_t type;  // TFLite TensorType: INT8 9, INT16 7
  float scale;
  int64_t zero_point;
};
std::vector<uint8_t> chains_tflite(const std::vector<int32_t>& builtins, const std::vector<ChainTensor>& ts) {
  namespace fb = tinyedge::tflite_fb;
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (const ChainTensor& t : ts) {
    const auto q = fb::CreateQuantizationParameters(b, 0, 0, b.CreateVector(std::vector<float>{t.scale}),
                                                    b.CreateVector(std::vector<int64_t>{t.zero_point}));
    tensors.push_back(
        fb::CreateTensor(b, b.CreateVector(std::vector<int32_t>{1, 4}), t.type, 0, b.CreateString(t.name), q));
  }
  std::vector<flatbuffers::Offset<fb::Operator>> ops;
  std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
  std::vector<int32_t> ins, outs;
  for (size_t k = 0; k < builtins.size(); ++k) {
    const std::vector<int32_t> in{static_cast<int32_t>(2 * k)}, out{static_cast<int32_t>(2 * k + 1)};
    ins.push_back(in[0]);
    outs.push_back(out[0]);
    ops.push_back(fb::CreateOperator(b, static_cast<uint32_t>(k), b.CreateVector(in), b.CreateVector(out)));
    const int32_t code = builtins[k];
    codes.push_back(fb::CreateOperatorCode(b, static_cast<int8_t>(code < 127 ? code : 127), 0, 1, code));
  }
  const auto sg =
      fb::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(ins), b.CreateVector(outs), b.CreateVector(ops));
  const auto m =
      fb::CreateModel(b, 3, b.CreateVector(codes), b.CreateVector(std::vector<flatbuffers::Offset<fb::SubGraph>>{sg}),
                      0, b.CreateVector(std::vector<flatbuffers::Offset<fb::Buffer>>{fb::CreateBuffer(b)}));
  fb::FinishModelBuffer(b, m);
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

TEST(ImportErrors, EveryProblemOfTheNewOpsIsListedAtOnce) {
  // HARD_SWISH on int16 (a type it does not take), int16 SOFTMAX with an output scale it cannot
  // produce, int16 LOGISTIC with a zero point, an int32 -> int32 QUANTIZE, and REDUCE_MIN (no
  // kernel): one import error naming each by op, TFLite name, tensor and problem.
  const std::vector<uint8_t> file = chains_tflite({117, 25, 14, 114, 89}, {{"hs_in", 7, 0.01f, 0},
                                                                           {"hs_out", 7, 0.01f, 0},
                                                                           {"sm_in", 7, 0.001f, 0},
                                                                           {"sm_out", 7, 0.1f, 0},
                                                                           {"lg_in", 7, 0.001f, 5},
                                                                           {"lg_out", 7, 1.0f / 32768, 0},
                                                                           {"q_in", 2, 0.01f, 0},
                                                                           {"q_out", 2, 0.02f, 0},
                                                                           {"rm_in", 9, 0.1f, 0},
                                                                           {"rm_out", 9, 0.1f, 0}});
  try {
    model::import_tflite(file);
    FAIL() << "imported a model with five ops it cannot run";
  } catch (const model::ImportError& e) {
    const std::string msg = e.what();
    for (const char* part :
         {"5 problems", "op 4 REDUCE_MIN: not supported by the TinyEdge runtime",
          "op 0 (HARD_SWISH), tensor 0 'hs_in': int16: type not supported here (HARD_SWISH takes int8)",
          "op 1 (SOFTMAX), tensor 3 'sm_out': int16 softmax output must have scale 1/32768",
          "op 2 (LOGISTIC), tensor 4 'lg_in': int16 LOGISTIC input must have zero point 0",
          "op 3 (QUANTIZE), tensor 7 'q_out': int32 -> int32 is not supported"}) {
      EXPECT_NE(msg.find(part), std::string::npos) << "missing \"" << part << "\" in:\n" << msg;
    }
  }
}

// A TFLite file built tensor by tensor: each tensor has its type, shape, quantisation and (for a
// constant) its data in a buffer of its own; each op its builtin code, operands and options.
struct FileTensor {
  const char* name;
  int8_t type;  // TFLite TensorType: INT8 9, INT16 7, INT32 2
  std::vector<int32_t> shape;
  std::vector<uint8_t> data;  // empty: an activation
};
struct FileOp {
  int32_t builtin;
  std::vector<int32_t> inputs, outputs;
  uint8_t options_type = 0;
  flatbuffers::Offset<void> options = 0;
};

template <class T>
std::vector<uint8_t> le_bytes(std::vector<T> v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::vector<uint8_t> build_tflite(flatbuffers::FlatBufferBuilder& b, const std::vector<FileTensor>& ts,
                                  const std::vector<FileOp>& ops, std::vector<int32_t> inputs,
                                  std::vector<int32_t> outputs) {
  namespace fb = tinyedge::tflite_fb;
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers{fb::CreateBuffer(b)};
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (const FileTensor& t : ts) {
    uint32_t buffer = 0;
    if (!t.data.empty()) {
      buffer = static_cast<uint32_t>(buffers.size());
      buffers.push_back(fb::CreateBuffer(b, b.CreateVector(t.data)));
    }
    const auto q = fb::CreateQuantizationParameters(b, 0, 0, b.CreateVector(std::vector<float>{0.1f}),
                                                    b.CreateVector(std::vector<int64_t>{0}));
    tensors.push_back(
        fb::CreateTensor(b, b.CreateVector(t.shape), t.type, buffer, b.CreateString(t.name), t.type == 2 ? 0 : q));
  }
  std::vector<flatbuffers::Offset<fb::Operator>> fops;
  std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
  for (size_t k = 0; k < ops.size(); ++k) {
    const FileOp& o = ops[k];
    fops.push_back(fb::CreateOperator(b, static_cast<uint32_t>(k), b.CreateVector(o.inputs), b.CreateVector(o.outputs),
                                      static_cast<fb::BuiltinOptions>(o.options_type), o.options));
    codes.push_back(fb::CreateOperatorCode(b, static_cast<int8_t>(o.builtin < 127 ? o.builtin : 127), 0, 1, o.builtin));
  }
  const auto sg = fb::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(inputs), b.CreateVector(outputs),
                                     b.CreateVector(fops));
  const auto m =
      fb::CreateModel(b, 3, b.CreateVector(codes), b.CreateVector(std::vector<flatbuffers::Offset<fb::SubGraph>>{sg}),
                      0, b.CreateVector(buffers));
  fb::FinishModelBuffer(b, m);
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

TEST(DataOpsEndToEnd, ImportedChainOfReshapeSliceSplitPackAndReduceOpsRuns) {
  // x [2,3,4] -EXPAND_DIMS(0)-> [1,2,3,4] -SQUEEZE([0])-> [2,3,4] -SLICE(begin 0,1,0 size 2,2,4)->
  // [2,2,4] -PADV2(last axis 1|1, value 7)-> [2,2,6] -SPLIT_V(3,3 on axis 2)-> a, b [2,2,3]
  // -PACK(axis 0)-> [2,2,2,3] -UNPACK(axis 1)-> u0, u1 [2,2,3]; SUM(u0, axis 2, keep_dims) [2,2,1]
  // and REDUCE_MAX(u1, axis 2) [2,2]: the importer reads every option from the file.
  namespace fb = tinyedge::tflite_fb;
  flatbuffers::FlatBufferBuilder b;
  const std::vector<FileTensor> ts = {
      {"x", 9, {2, 3, 4}, {}},                                         // 0
      {"axis0", 2, {1}, le_bytes<int32_t>({0})},                       // 1
      {"expanded", 9, {1, 2, 3, 4}, {}},                               // 2
      {"squeezed", 9, {2, 3, 4}, {}},                                  // 3
      {"begin", 2, {3}, le_bytes<int32_t>({0, 1, 0})},                 // 4
      {"size", 2, {3}, le_bytes<int32_t>({2, 2, 4})},                  // 5
      {"sliced", 9, {2, 2, 4}, {}},                                    // 6
      {"paddings", 2, {3, 2}, le_bytes<int32_t>({0, 0, 0, 0, 1, 1})},  // 7
      {"pad_value", 9, {1}, le_bytes<int8_t>({7})},                    // 8
      {"padded", 9, {2, 2, 6}, {}},                                    // 9
      {"splits", 2, {2}, le_bytes<int32_t>({3, 3})},                   // 10
      {"axis2", 2, {1}, le_bytes<int32_t>({2})},                       // 11
      {"a", 9, {2, 2, 3}, {}},                                         // 12
      {"b", 9, {2, 2, 3}, {}},                                         // 13
      {"packed", 9, {2, 2, 2, 3}, {}},                                 // 14
      {"u0", 9, {2, 2, 3}, {}},                                        // 15
      {"u1", 9, {2, 2, 3}, {}},                                        // 16
      {"sum", 9, {2, 2, 1}, {}},                                       // 17
      {"max", 9, {2, 2}, {}},                                          // 18
  };
  const auto squeeze = fb::CreateSqueezeOptions(b, b.CreateVector(std::vector<int32_t>{0})).Union();
  const auto split_v = fb::CreateSplitVOptions(b, 2).Union();
  const auto pack = fb::CreatePackOptions(b, 2, 0).Union();
  const auto unpack = fb::CreateUnpackOptions(b, 2, 1).Union();
  const auto keep = fb::CreateReducerOptions(b, true).Union();
  const auto drop = fb::CreateReducerOptions(b, false).Union();
  const std::vector<FileOp> ops = {
      {70, {0, 1}, {2}},
      {43, {2}, {3}, static_cast<uint8_t>(fb::BuiltinOptions_SqueezeOptions), squeeze},
      {65, {3, 4, 5}, {6}},
      {60, {6, 7, 8}, {9}},
      {102, {9, 10, 11}, {12, 13}, static_cast<uint8_t>(fb::BuiltinOptions_SplitVOptions), split_v},
      {83, {12, 13}, {14}, static_cast<uint8_t>(fb::BuiltinOptions_PackOptions), pack},
      {88, {14}, {15, 16}, static_cast<uint8_t>(fb::BuiltinOptions_UnpackOptions), unpack},
      {74, {15, 11}, {17}, static_cast<uint8_t>(fb::BuiltinOptions_ReducerOptions), keep},
      {82, {16, 11}, {18}, static_cast<uint8_t>(fb::BuiltinOptions_ReducerOptions), drop},
  };
  const auto file = build_tflite(b, ts, ops, {0}, {17, 18});
  const auto compiled = compile_tflite(file);
  Runner r;
  ASSERT_EQ(r.load(compiled.tem), runtime::Status::kOk);

  std::vector<int8_t> x(24);
  for (int i = 0; i < 24; ++i) x[i] = static_cast<int8_t>((i * 7) % 41 - 20);
  // Expected, step by step on plain arrays: padded[i][j] = 7, x[i][j+1][0..3], 7.
  int8_t padded[2][2][6];
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      padded[i][j][0] = padded[i][j][5] = 7;
      for (int k = 0; k < 4; ++k) padded[i][j][1 + k] = x[i * 12 + (j + 1) * 4 + k];
    }
  }
  // packed[s][i][j][k] = (s == 0 ? a : b)[i][j][k] = padded[i][j][3s + k]; u_t[s][j][k] = packed[s][t][j][k].
  std::vector<int8_t> want_sum, want_max;
  for (int s = 0; s < 2; ++s) {
    for (int j = 0; j < 2; ++j) {
      int sum = 0, mx = -128;
      for (int k = 0; k < 3; ++k) {
        sum += padded[0][j][3 * s + k];
        mx = std::max<int>(mx, padded[1][j][3 * s + k]);
      }
      want_sum.push_back(static_cast<int8_t>(std::clamp(sum, -128, 127)));
      want_max.push_back(static_cast<int8_t>(mx));
    }
  }
  for (auto set : {runtime::KernelSet::kOptimized, runtime::KernelSet::kReference}) {
    r.interp.set_kernel_set(set);
    std::memcpy(r.interp.input(0).data(), x.data(), x.size());
    ASSERT_EQ(r.interp.invoke(), runtime::Status::kOk);
    std::vector<int8_t> sum(4), mx(4);
    std::memcpy(sum.data(), r.interp.output(0).data(), 4);
    std::memcpy(mx.data(), r.interp.output(1).data(), 4);
    EXPECT_EQ(sum, want_sum);
    EXPECT_EQ(mx, want_max);
  }
}

}  // namespace
}  // namespace tinyedge::testing
