// Optimised kernels held to the reference kernels bit for bit: every layer of the four MLPerf
// Tiny models on non-uniform inputs (smooth, narrow around the zero point, saturated), and
// randomly shaped single-op graphs (strides, dilations, padding, depth multipliers, per-channel
// and per-tensor quantisation, fused activations).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/dsp_add.h"
#include "node_firmware/runtime/kernels/dsp_conv.h"
#include "node_firmware/runtime/kernels/dsp_depthwise.h"
#include "node_firmware/runtime/kernels/dsp_fully_connected.h"
#include "tests/runtime/model_helpers.h"
#include "tests/runtime/shared_models.h"

namespace tinyedge::testing {
namespace {

using model::Activation;
using model::Graph;
using model::OpKind;
using model::OpOptions;
using model::Padding;

// The Cortex-M4 DSP kernels (dsp_*.h) through dsp.h's portable emulation of SXTB16/SMLAD/SMLAxy,
// on op `op`'s operands as the interpreter resolves them, writing to their own buffer; empty when
// the op is not one they run (the M4 build then takes the op's other optimised path).
std::vector<int8_t> run_dsp_kernel(const Runner& r, uint16_t op, bool packed_scales) {
  runtime::OpContext ctx = r.interp.context(op);
  const bool add = static_cast<runtime::Kernel>(r.model.op(op).kernel) == runtime::Kernel::kAdd;
  if ((ctx.packed == nullptr && !add) || ctx.input == nullptr || r.model.tensor(ctx.inputs[0]).type != 0) return {};
  std::vector<int8_t> out(static_cast<size_t>(ctx.output_shape.elements()));
  ctx.output = out.data();
  // Without packed scales the kernels work them out from the quant table (older .tem files).
  const uint32_t* scales = packed_scales ? runtime::dsp::packed_scales(ctx) : nullptr;
  switch (static_cast<runtime::Kernel>(r.model.op(op).kernel)) {
    case runtime::Kernel::kConv2D:
      if (!runtime::dsp::conv2d_fits(ctx)) return {};
      runtime::dsp::conv2d(ctx, scales);
      return out;
    case runtime::Kernel::kDepthwiseConv2D:
      if (!runtime::dsp::depthwise_fits(ctx)) return {};
      runtime::dsp::depthwise(ctx, scales);
      return out;
    case runtime::Kernel::kFullyConnected:
      runtime::dsp::fully_connected(ctx, scales);
      return out;
    case runtime::Kernel::kAdd:
      if (!packed_scales || !runtime::dsp::add_fits(ctx)) return {};  // ADD has no packed data
      runtime::dsp::add(ctx);
      return out;
    default:
      return {};
  }
}

// Runs op by op with both kernel sets and compares every op's output; conv, depthwise, FC and
// ADD outputs also with the M4 DSP kernels' (emulated here, run for real by the qemu tests).
// input2: the second input of a two-input graph (else left as the arena has it).
void expect_same_layers(std::span<const uint8_t> tem, std::span<const int8_t> input, const std::string& what,
                        std::span<const int8_t> input2 = {}) {
  Runner fast, ref;
  ASSERT_EQ(fast.load(tem), runtime::Status::kOk) << what;
  ASSERT_EQ(ref.load(tem), runtime::Status::kOk) << what;
  ref.interp.set_kernel_set(runtime::KernelSet::kReference);
  std::memcpy(fast.interp.input().data(), input.data(), input.size());
  std::memcpy(ref.interp.input().data(), input.data(), input.size());
  if (!input2.empty()) {
    std::memcpy(fast.interp.input(1).data(), input2.data(), input2.size());
    std::memcpy(ref.interp.input(1).data(), input2.data(), input2.size());
  }
  for (uint16_t op = 0; op < fast.model.op_count(); ++op) {
    const std::vector<int8_t> dsp = run_dsp_kernel(fast, op, true);
    const std::vector<int8_t> dsp_unpacked = run_dsp_kernel(fast, op, false);
    ASSERT_EQ(fast.interp.invoke_ops(op, op + 1), runtime::Status::kOk);
    ASSERT_EQ(ref.interp.invoke_ops(op, op + 1), runtime::Status::kOk);
    const auto a = fast.interp.tensor_data(fast.model.op_outputs(op)[0]);
    const auto b = ref.interp.tensor_data(ref.model.op_outputs(op)[0]);
    for (const auto* d : {&dsp, &dsp_unpacked}) {
      if (d->empty()) continue;
      ASSERT_EQ(d->size(), b.size());
      for (size_t i = 0; i < b.size(); ++i) {
        ASSERT_EQ((*d)[i], b[i]) << what << ": op " << op << " (kernel " << int(fast.model.op(op).kernel)
                                 << ") element " << i << " M4 DSP kernel " << int((*d)[i]) << " reference " << int(b[i])
                                 << (d == &dsp ? " (packed scales)" : " (scales from the quant table)");
      }
    }
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i], b[i]) << what << ": op " << op << " (kernel " << int(fast.model.op(op).kernel) << ") element "
                            << i << " optimised " << int(a[i]) << " reference " << int(b[i]);
    }
  }
}

std::vector<int8_t> make_input(const runtime::TensorInfo& info, int kind, uint32_t seed) {
  std::vector<int8_t> v(info.element_count);
  std::mt19937 rng(seed);
  const int32_t zp = info.zero_point;
  const int32_t channels = info.dims[info.rank - 1];
  for (size_t i = 0; i < v.size(); ++i) {
    int32_t x = 0;
    switch (kind) {
      case 0: {  // smooth: low-frequency waves across positions, offset per channel
        const double p = static_cast<double>(i / channels);
        x = static_cast<int32_t>(60 * std::sin(p * 0.07) + 30 * std::cos(p * 0.013 + (i % channels)));
        break;
      }
      case 1:
        x = zp + static_cast<int32_t>(rng() % 7) - 3;
        break;  // narrow band around the zero point
      case 2:
        x = zp;
        break;  // silence
      case 3:
        x = (i / 7) % 2 ? 127 : -128;
        break;  // saturated blocks
      default:
        x = static_cast<int32_t>(rng() % 256) - 128;
        break;
    }
    v[i] = static_cast<int8_t>(std::clamp(x, -128, 127));
  }
  return v;
}

// The M4 kernels' output stage against the requantisation every optimised kernel uses.
TEST(DspOutputStage, ScaleMatchesRequantiseFast) {
  std::mt19937 rng(7);
  const int32_t edges[] = {0, 1, -1, 2, -2, 1 << 20, -(1 << 20), INT32_MAX, INT32_MIN, INT32_MIN + 1, 123456789};
  int checked = 0;
  for (int shift = -31; shift <= 30; ++shift) {
    for (int32_t m : {0, 1, 1 << 30, INT32_MAX, 1518500250, static_cast<int32_t>(rng() >> 1)}) {
      runtime::OpContext ctx;
      ctx.quant_count = 1;
      ctx.multipliers = &m;
      const int32_t s = shift;
      ctx.shifts = &s;
      const runtime::dsp::ChannelScale cs = runtime::dsp::channel_scale(ctx, 0);
      for (int i = 0; i < 200; ++i) {
        const int32_t x = i < 11 ? edges[i] : static_cast<int32_t>(rng()) >> (rng() % 31);
        ASSERT_EQ(runtime::dsp::scale(cs, x), runtime::fx::requantise_fast(x, m, shift))
            << "x " << x << " multiplier " << m << " shift " << shift;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 70000);
}

// The packed output scales are recomputed from the quant table at load: a blob whose scales
// disagree (a corrupted or hand-edited file) is refused rather than run with the wrong rounding.
TEST(DspPackedScales, LoaderRefusesScalesThatDisagreeWithTheQuantTable) {
  for (const OpKind kind : {OpKind::kConv2D, OpKind::kDepthwiseConv2D, OpKind::kFullyConnected}) {
    Graph g;
    const bool fc = kind == OpKind::kFullyConnected;
    const int in = fc ? g.add_activation("in", {1, 8}, 0.05f, 3) : g.add_activation("in", {1, 4, 4, 8}, 0.05f, 3);
    std::vector<int8_t> w(fc ? 6 * 8 : (kind == OpKind::kConv2D ? 6 * 3 * 3 * 8 : 3 * 3 * 8));
    for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(i * 37 % 255 - 127);
    const int channels = kind == OpKind::kDepthwiseConv2D ? 8 : 6;
    const std::vector<int32_t> shape =
        fc ? std::vector<int32_t>{6, 8}
           : (kind == OpKind::kConv2D ? std::vector<int32_t>{6, 3, 3, 8} : std::vector<int32_t>{1, 3, 3, 8});
    const int wt = g.add_int8_weights("w", shape, w, {0.01f}, kind == OpKind::kDepthwiseConv2D ? 3 : 0);
    const int bt = g.add_int32_bias("b", std::vector<int32_t>(static_cast<size_t>(channels), 100), {0.0005f});
    const int out =
        fc ? g.add_activation("out", {1, 6}, 0.1f, -2) : g.add_activation("out", {1, 4, 4, channels}, 0.1f, -2);
    OpOptions o;
    o.padding = Padding::kSame;
    g.add_op(kind, {in, wt, bt}, out, o);
    g.inputs = {in};
    g.outputs = {out};
    model::ModelMetadata meta;
    auto tem = model::compile(g, meta).tem;
    Runner ok;
    ASSERT_EQ(ok.load(tem), runtime::Status::kOk);
    const runtime::TemOp& op = ok.model.op(0);
    ASSERT_EQ(ok.interp.context(0).params_as<runtime::BasicOpParams>().packing,
              static_cast<uint8_t>(runtime::TemPacking::kBiasScales));
    for (uint32_t word = 0; word < 2 * static_cast<uint32_t>(channels); word += 3) {
      auto bad = tem;
      bad[op.packed_offset + 4 * static_cast<uint32_t>(channels) + 4 * word] ^= 1;
      Runner r;
      EXPECT_EQ(r.load(bad), runtime::Status::kBadParams) << "kernel " << op.kernel << " scale word " << word;
    }
  }
}

class ModelEquivalence : public ::testing::TestWithParam<const char*> {};

TEST_P(ModelEquivalence, OptimisedMatchesReferenceOnNonUniformInputs) {
  const std::string name = GetParam();
  const auto path = shared_models_dir() / (name + ".tflite");
  TINYEDGE_REQUIRE_SHARED(path);
  const auto compiled = compile_tflite(read_bytes(path));
  Runner probe;
  ASSERT_EQ(probe.load(compiled.tem), runtime::Status::kOk);
  for (int kind = 0; kind < 5; ++kind) {
    const auto input = make_input(probe.model.input_info(), kind, 1000 + kind);
    expect_same_layers(compiled.tem, input, name + " input kind " + std::to_string(kind));
  }
}

INSTANTIATE_TEST_SUITE_P(MlperfTiny, ModelEquivalence,
                         ::testing::Values("kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"));

// --- random single-op graphs ---

// TFLite's output extent along one axis of a convolution or pooling window: SAME pads to ceil(in / stride), VALID
// keeps the windows (dilated filter) wholly inside.
int out_extent(Padding padding, int in, int filter, int dilation, int stride) {
  const int effective = (filter - 1) * dilation + 1;
  return padding == Padding::kSame ? (in + stride - 1) / stride : (in - effective + stride) / stride;
}

struct RandomGraphs : ::testing::Test {
  std::mt19937 rng{42};
  int uniform(int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<uint32_t>(hi - lo + 1)); }
  float scale(float lo, float hi) { return lo + (hi - lo) * static_cast<float>(rng() % 10000) / 10000.0f; }
  std::vector<int8_t> weights(size_t n) {
    std::vector<int8_t> w(n);
    for (auto& x : w) x = static_cast<int8_t>(uniform(-127, 127));
    return w;
  }
  std::vector<int32_t> biases(size_t n) {
    std::vector<int32_t> b(n);
    for (auto& x : b) x = uniform(-20000, 20000);
    return b;
  }
  Activation activation() { return static_cast<Activation>(uniform(0, 3)); }
  // One CONV_2D of random int8 weights over a {1, h, w, cin} input into {1, oh, ow, cout}, one weight
  // scale per output channel when `per_channel`; the draws in a fixed order (trials reproduce).
  Graph conv_graph(int h, int w, int cin, int cout, int kh, int kw, int oh, int ow, const OpOptions& o,
                   bool per_channel) {
    Graph g;
    const float in_scale = scale(0.01f, 0.2f);
    const int in = g.add_activation("in", {1, h, w, cin}, in_scale, uniform(-128, 127));
    std::vector<float> ws(per_channel ? cout : 1);
    for (auto& s : ws) s = scale(0.002f, 0.03f);
    std::vector<float> bs;
    for (float s : ws) bs.push_back(s * in_scale);
    const int wt = g.add_int8_weights("w", {cout, kh, kw, cin}, weights(static_cast<size_t>(cout * kh * kw * cin)), ws);
    const int bt = g.add_int32_bias("b", biases(cout), bs);
    const int out = g.add_activation("out", {1, oh, ow, cout}, scale(0.02f, 0.5f), uniform(-128, 127));
    g.add_op(OpKind::kConv2D, {in, wt, bt}, out, o);
    g.inputs = {in};
    g.outputs = {out};
    return g;
  }

  void check(const Graph& g, const std::string& what, const model::CompileOptions& options = {}) {
    model::ModelMetadata meta;
    model::CompiledModel c;
    try {
      c = model::compile(g, meta, options);
    } catch (const model::CompileError& e) {
      FAIL() << what << ": " << e.what();
    }
    Runner probe;
    ASSERT_EQ(probe.load(c.tem), runtime::Status::kOk);
    for (int kind : {0, 1, 4}) expect_same_layers(c.tem, make_input(probe.model.input_info(), kind, rng()), what);
  }

  // The graph compiled with its filters blocked for the M4 gives, through the M4 kernels, the bits
  // the reference kernels give on the graph compiled without (the filter in the graph's order):
  // the layout, not only the kernels that read it, is checked.
  void expect_blocked_same_as_plain(const Graph& g, const std::string& what) {
    model::ModelMetadata meta;
    model::CompileOptions blocked;
    blocked.m4_blocked_weights = true;
    const auto plain_tem = model::compile(g, meta).tem;
    const auto blocked_tem = model::compile(g, meta, blocked).tem;
    Runner plain, fast;
    ASSERT_EQ(plain.load(plain_tem), runtime::Status::kOk) << what;
    ASSERT_EQ(fast.load(blocked_tem), runtime::Status::kOk) << what;
    plain.interp.set_kernel_set(runtime::KernelSet::kReference);
    for (int kind : {0, 1, 4}) {
      const auto x = make_input(plain.model.input_info(), kind, rng());
      std::memcpy(plain.interp.input().data(), x.data(), x.size());
      std::memcpy(fast.interp.input().data(), x.data(), x.size());
      ASSERT_EQ(plain.interp.invoke(), runtime::Status::kOk) << what;
      ASSERT_EQ(fast.interp.invoke(), runtime::Status::kOk) << what;
      const auto a = fast.interp.output(), b = plain.interp.output();
      ASSERT_EQ(a.size(), b.size()) << what;
      for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_EQ(a[i], b[i]) << what << ": element " << i << " with the blocked filter " << int(a[i])
                              << ", reference on the plain filter " << int(b[i]);
      }
    }
  }
};

// Depthwise windows as kws and vww have them (3x3, stride 1 or 2, SAME padding: every edge and
// corner window) and a few other filters, dilations and channel counts: 64, and more channels than
// the M4 kernel's row of zero points holds (its edge windows then take the per-tap bounds checks).
TEST_F(RandomGraphs, DepthwiseWindowsMatchReference) {
  for (int trial = 0; trial < 24; ++trial) {
    const bool square3 = trial % 4 != 3;
    const int kh = square3 ? 3 : uniform(1, 5), kw = square3 ? 3 : uniform(1, 5);
    const int h = uniform(1, 9), w = uniform(1, 9);
    const int cin = trial % 6 == 0 ? 64 : (trial % 6 == 1 ? 260 : uniform(1, 20));
    OpOptions o;
    o.stride_h = uniform(1, 2);
    o.stride_w = uniform(1, 2);
    o.dilation_h = square3 ? 1 : uniform(1, 2);
    o.dilation_w = square3 ? 1 : uniform(1, 2);
    o.padding = trial % 3 == 2 ? Padding::kValid : Padding::kSame;
    o.activation = activation();
    o.depth_multiplier = 1;
    const int oh = out_extent(o.padding, h, kh, o.dilation_h, o.stride_h);
    const int ow = out_extent(o.padding, w, kw, o.dilation_w, o.stride_w);
    if (oh < 1 || ow < 1) continue;
    Graph g;
    const float in_scale = scale(0.01f, 0.2f);
    const int in = g.add_activation("in", {1, h, w, cin}, in_scale, uniform(-128, 127));
    std::vector<float> ws(static_cast<size_t>(cin));
    for (auto& s : ws) s = scale(0.002f, 0.03f);
    std::vector<float> bs;
    for (float s : ws) bs.push_back(s * in_scale);
    const int wt = g.add_int8_weights("w", {1, kh, kw, cin}, weights(static_cast<size_t>(kh * kw * cin)), ws, 3);
    const int bt = g.add_int32_bias("b", biases(cin), bs);
    const int out = g.add_activation("out", {1, oh, ow, cin}, scale(0.02f, 0.5f), uniform(-128, 127));
    g.add_op(OpKind::kDepthwiseConv2D, {in, wt, bt}, out, o);
    g.inputs = {in};
    g.outputs = {out};
    check(g, "depthwise window trial " + std::to_string(trial) + " (" + std::to_string(h) + "x" + std::to_string(w) +
                 "x" + std::to_string(cin) + ", filter " + std::to_string(kh) + "x" + std::to_string(kw) + ")");
  }
}

TEST_F(RandomGraphs, ConvolutionsMatchReference) {
  for (int trial = 0; trial < 60; ++trial) {
    const bool dw = trial % 2 == 1;
    const int h = uniform(1, 12), w = uniform(1, 12), cin = uniform(1, 20);
    const int dm = dw ? uniform(1, 3) : 1;
    const int cout = dw ? cin * dm : uniform(1, 24);
    const int kh = uniform(1, 5), kw = uniform(1, 5);
    OpOptions o;
    o.stride_h = uniform(1, 3);
    o.stride_w = uniform(1, 3);
    o.dilation_h = uniform(1, 2);
    o.dilation_w = uniform(1, 2);
    o.padding = uniform(0, 1) ? Padding::kSame : Padding::kValid;
    o.activation = activation();
    o.depth_multiplier = dm;
    const int oh = out_extent(o.padding, h, kh, o.dilation_h, o.stride_h);
    const int ow = out_extent(o.padding, w, kw, o.dilation_w, o.stride_w);
    if (oh < 1 || ow < 1) continue;
    Graph g;
    const float in_scale = scale(0.01f, 0.2f);
    const int in = g.add_activation("in", {1, h, w, cin}, in_scale, uniform(-128, 127));
    const bool per_channel = uniform(0, 1) == 1;
    std::vector<float> ws(per_channel ? cout : 1);
    for (auto& s : ws) s = scale(0.002f, 0.03f);
    std::vector<float> bs;
    for (float s : ws) bs.push_back(s * in_scale);
    const std::vector<int32_t> shape =
        dw ? std::vector<int32_t>{1, kh, kw, cout} : std::vector<int32_t>{cout, kh, kw, cin};
    const int wt =
        g.add_int8_weights("w", shape, weights(static_cast<size_t>(kh * kw * cout * (dw ? 1 : cin))), ws, dw ? 3 : 0);
    const int bt = g.add_int32_bias("b", biases(cout), bs);
    const int out = g.add_activation("out", {1, oh, ow, cout}, scale(0.02f, 0.5f), uniform(-128, 127));
    g.add_op(dw ? OpKind::kDepthwiseConv2D : OpKind::kConv2D, {in, wt, bt}, out, o);
    g.inputs = {in};
    g.outputs = {out};
    check(g, (dw ? "depthwise" : "conv") + std::string(" trial ") + std::to_string(trial));
  }
}

// Windows longer than a pixel pair's gather buffer (resnet's 3x3x64 convolutions have 576 taps)
// run on the M4 DSP path one pixel at a time: every such shape must reach it, and match.
TEST_F(RandomGraphs, DeepConvolutionsRunOnTheDspPathAndMatchReference) {
  for (int trial = 0; trial < 12; ++trial) {
    const int kh = trial % 3 == 0 ? 1 : uniform(2, 3), kw = uniform(1, 3);
    const int cin =
        uniform(runtime::dsp::kConvMaxDepth / (kh * kw) + 1, runtime::dsp::kConvMaxDepthOnePixel / (kh * kw));
    const int h = uniform(kh, 7), w = uniform(kw, 7), cout = uniform(1, 11);
    OpOptions o;
    o.stride_h = uniform(1, 2);
    o.stride_w = uniform(1, 2);
    o.dilation_w = kh == 1 ? 1 : uniform(1, 2);
    o.padding = uniform(0, 1) ? Padding::kSame : Padding::kValid;
    o.activation = activation();
    const int oh = out_extent(o.padding, h, kh, o.dilation_h, o.stride_h);
    const int ow = out_extent(o.padding, w, kw, o.dilation_w, o.stride_w);
    if (oh < 1 || ow < 1) continue;
    const Graph g = conv_graph(h, w, cin, cout, kh, kw, oh, ow, o, trial % 2 == 1);
    const std::string what = "deep conv trial " + std::to_string(trial) + " (" + std::to_string(kh) + "x" +
                             std::to_string(kw) + "x" + std::to_string(cin) + " -> " + std::to_string(cout) + ")";
    model::ModelMetadata meta;
    const auto tem = model::compile(g, meta).tem;
    Runner probe;
    ASSERT_EQ(probe.load(tem), runtime::Status::kOk) << what;
    EXPECT_TRUE(runtime::dsp::conv2d_fits(probe.interp.context(0)))
        << what << ": a " << kh * kw * cin << "-tap window left the M4 DSP path";
    check(g, what);
  }
}

// Residual ADDs (both inputs of the output's shape) run on the M4 path with per-op constants:
// every scale ratio, zero point and fused activation must give the reference kernel's bits.
TEST_F(RandomGraphs, SameShapeAddsRunOnTheDspPathAndMatchReference) {
  for (int trial = 0; trial < 40; ++trial) {
    const std::vector<int32_t> shape = {1, uniform(1, 9), uniform(1, 9), uniform(1, 40)};
    Graph g;
    const int a = g.add_activation("a", shape, scale(0.005f, 0.3f), uniform(-128, 127));
    const int b = g.add_activation("b", shape, scale(0.005f, 0.3f), uniform(-128, 127));
    const int y = g.add_activation("y", shape, scale(0.01f, 0.6f), uniform(-128, 127));
    OpOptions o;
    o.activation = activation();
    g.add_op(OpKind::kAdd, {a, b}, y, o);
    g.inputs = {a, b};
    g.outputs = {y};
    const std::string what = "add trial " + std::to_string(trial);
    model::ModelMetadata meta;
    const auto tem = model::compile(g, meta).tem;
    Runner probe;
    ASSERT_EQ(probe.load(tem), runtime::Status::kOk) << what;
    EXPECT_TRUE(runtime::dsp::add_fits(probe.interp.context(0))) << what << ": a same-shape ADD left the M4 DSP path";
    for (int kind : {0, 1, 3, 4}) {
      const auto x = make_input(probe.model.input_info(0), kind, rng());
      const auto z = make_input(probe.model.input_info(1), (kind + 1) % 5, rng());
      expect_same_layers(tem, x, what + " input kind " + std::to_string(kind), z);
    }
  }
}

TEST_F(RandomGraphs, FullyConnectedAndPoolsMatchReference) {
  for (int trial = 0; trial < 30; ++trial) {
    Graph g;
    const int h = uniform(1, 9), w = uniform(1, 9), c = uniform(1, 70);
    const float s = scale(0.01f, 0.2f);
    const int zp = uniform(-128, 127);
    const int in = g.add_activation("in", {1, h, w, c}, s, zp);
    OpOptions p;
    p.filter_h = uniform(1, h);
    p.filter_w = uniform(1, w);
    p.stride_h = uniform(1, 2);
    p.stride_w = uniform(1, 2);
    p.padding = uniform(0, 1) ? Padding::kSame : Padding::kValid;
    p.activation = activation();
    const int oh = out_extent(p.padding, h, p.filter_h, 1, p.stride_h);
    const int ow = out_extent(p.padding, w, p.filter_w, 1, p.stride_w);
    const int pooled = g.add_activation("pool", {1, oh, ow, c}, s, zp);
    g.add_op(trial % 2 ? OpKind::kMaxPool2D : OpKind::kAveragePool2D, {in}, pooled, p);
    const int depth = oh * ow * c;
    const int flat = g.add_activation("flat", {1, depth}, s, zp);
    g.add_op(OpKind::kReshape, {pooled}, flat);
    const int units = uniform(1, 40);
    const float ws = scale(0.002f, 0.03f);
    const int wt = g.add_int8_weights("w", {units, depth}, weights(static_cast<size_t>(units * depth)), {ws});
    const int bt = g.add_int32_bias("b", biases(units), {ws * s});
    OpOptions f;
    f.activation = activation();
    const int out = g.add_activation("fc", {1, units}, scale(0.05f, 1.0f), uniform(-128, 127));
    g.add_op(OpKind::kFullyConnected, {flat, wt, bt}, out, f);
    g.inputs = {in};
    g.outputs = {out};
    check(g, "pool+fc trial " + std::to_string(trial));
  }
}

// `tinyedge model import --m4-blocked-weights`: the M4 FC kernel (and the reference, through the
// layout) reads the filter in blocks of four units; every block shape (a short last block of
// units), tail (depth not a multiple of 4) and batch count must give the reference kernel's bits
// on the model compiled without the option.
TEST_F(RandomGraphs, FullyConnectedBlockedFilterMatchesReference) {
  model::CompileOptions wide;
  wide.m4_blocked_weights = true;
  for (int trial = 0; trial < 40; ++trial) {
    const int batches = uniform(1, 3), depth = trial < 4 ? trial + 4 : uniform(4, 90), units = uniform(1, 13);
    Graph g;
    const float s = scale(0.01f, 0.2f);
    const int in = g.add_activation("in", {batches, depth}, s, uniform(-128, 127));
    std::vector<float> ws(trial % 2 ? units : 1);
    for (auto& x : ws) x = scale(0.002f, 0.03f);
    std::vector<float> bs;
    for (float x : ws) bs.push_back(x * s);
    const int wt = g.add_int8_weights("w", {units, depth}, weights(static_cast<size_t>(units * depth)), ws);
    const int bt = g.add_int32_bias("b", biases(units), bs);
    OpOptions f;
    f.activation = activation();
    const int out = g.add_activation("fc", {batches, units}, scale(0.05f, 1.0f), uniform(-128, 127));
    g.add_op(OpKind::kFullyConnected, {in, wt, bt}, out, f);
    g.inputs = {in};
    g.outputs = {out};
    const std::string what = "blocked fc trial " + std::to_string(trial) + " (" + std::to_string(batches) + "x" +
                             std::to_string(depth) + " -> " + std::to_string(units) + ")";
    model::ModelMetadata meta;
    const auto tem = model::compile(g, meta, wide).tem;
    Runner probe;
    ASSERT_EQ(probe.load(tem), runtime::Status::kOk) << what;
    EXPECT_TRUE(runtime::dsp::blocked_filter(probe.interp.context(0)))
        << what << ": the compiler did not block the filter";
    check(g, what, wide);
    expect_blocked_same_as_plain(g, what);
  }
}

// The same for CONV_2D: channel pairs (pixel-pair path) and blocks of four (windows past
// kConvMaxDepth, one pixel at a time), odd channel counts, tails, padding and strides.
TEST_F(RandomGraphs, ConvolutionsBlockedFilterMatchesReference) {
  model::CompileOptions wide;
  wide.m4_blocked_weights = true;
  for (int trial = 0; trial < 24; ++trial) {
    const bool deep = trial % 3 == 2;
    const int kh = uniform(1, 3), kw = uniform(1, 3);
    const int cin =
        deep ? uniform(runtime::dsp::kConvMaxDepth / (kh * kw) + 1, runtime::dsp::kConvMaxDepthOnePixel / (kh * kw))
             : uniform((4 + kh * kw - 1) / (kh * kw), 20);  // at least 4 taps
    const int h = uniform(kh, 7), w = uniform(kw, 7), cout = uniform(1, 11);
    OpOptions o;
    o.stride_h = uniform(1, 2);
    o.stride_w = uniform(1, 2);
    o.padding = uniform(0, 1) ? Padding::kSame : Padding::kValid;
    o.activation = activation();
    const int oh = out_extent(o.padding, h, kh, o.dilation_h, o.stride_h);
    const int ow = out_extent(o.padding, w, kw, o.dilation_w, o.stride_w);
    const Graph g = conv_graph(h, w, cin, cout, kh, kw, oh, ow, o, trial % 2 == 1);
    const std::string what = "blocked conv trial " + std::to_string(trial) + " (" + std::to_string(kh) + "x" +
                             std::to_string(kw) + "x" + std::to_string(cin) + " -> " + std::to_string(cout) + ")";
    model::ModelMetadata meta;
    const auto tem = model::compile(g, meta, wide).tem;
    Runner probe;
    ASSERT_EQ(probe.load(tem), runtime::Status::kOk) << what;
    EXPECT_TRUE(runtime::dsp::blocked_filter(probe.interp.context(0)))
        << what << ": the compiler did not block the filter";
    check(g, what, wide);
    expect_blocked_same_as_plain(g, what);
  }
}

// The blocked filter is the same bytes in another order: no byte more in the file, and the loader
// refuses a filter whose order is not the one the packing names (left in [units][depth] order,
// blocked for another block size) and the retired int16 packing, for FC and CONV_2D alike.
TEST(DspBlockedFilter, LoaderRefusesAFilterNotInTheBlockedOrder) {
  const int units = 6, depth = 10;
  std::vector<int8_t> w(units * depth);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(i * 37 % 255 - 127);
  for (const bool conv : {false, true}) {
    SCOPED_TRACE(conv ? "CONV_2D 1x1x10 -> 6" : "FULLY_CONNECTED 10 -> 6");
    Graph g;
    const int in = conv ? g.add_activation("in", {1, 2, 2, depth}, 0.05f, 3) : g.add_activation("in", {1, depth}, 0.05f, 3);
    const int wt = conv ? g.add_int8_weights("w", {units, 1, 1, depth}, w, {0.01f})
                        : g.add_int8_weights("w", {units, depth}, w, {0.01f});
    const int bt = g.add_int32_bias("b", std::vector<int32_t>(units, 100), {0.0005f});
    const int out = conv ? g.add_activation("out", {1, 2, 2, units}, 0.1f, -2) : g.add_activation("out", {1, units}, 0.1f, -2);
    g.add_op(conv ? OpKind::kConv2D : OpKind::kFullyConnected, {in, wt, bt}, out, OpOptions{});
    g.inputs = {in};
    g.outputs = {out};
    model::ModelMetadata meta;
    model::CompileOptions blocked;
    blocked.m4_blocked_weights = true;
    const auto plain = model::compile(g, meta).tem;
    const auto tem = model::compile(g, meta, blocked).tem;
    if (!conv) {
      EXPECT_EQ(tem.size(), plain.size()) << "the blocked filter took more bytes than the plain one";
    }
    Runner ok;
    ASSERT_EQ(ok.load(tem), runtime::Status::kOk);
    const runtime::TemOp& op = ok.model.op(0);
    ASSERT_EQ(op.packed_bytes, 12u * units) << "bias and scales only: no copy of the weights";
    const int32_t block = conv ? runtime::dsp::conv_block(depth) : runtime::dsp::kFcBlock;
    std::vector<int8_t> want(w.size());
    runtime::dsp::block_filter(w.data(), units, depth, block, want.data());
    const runtime::TemTensor& tf = ok.model.tensor(ok.model.op_inputs(0)[1]);
    const uint32_t filter_at = tf.offset;
    ASSERT_EQ(tf.bytes, want.size());
    ASSERT_EQ(std::vector<int8_t>(tem.begin() + filter_at, tem.begin() + filter_at + tf.bytes), want)
        << "the filter is not in the blocked order";
    // The same bytes in the graph's [units][depth] order under the blocked packing.
    auto natural = tem;
    std::memcpy(natural.data() + filter_at, w.data(), w.size());
    Runner r1;
    EXPECT_EQ(r1.load(natural), runtime::Status::kBadParams) << "a filter in [rows][depth] order loaded as blocked";
    // Blocked for another block size than the kernel reads.
    const uint32_t reserved_at = op.params_offset + offsetof(runtime::BasicOpParams, reserved);
    auto other_block = tem;
    other_block[reserved_at] = static_cast<uint8_t>(block == 4 ? 2 : 4);
    runtime::dsp::block_filter(w.data(), units, depth, block == 4 ? 2 : 4,
                               reinterpret_cast<int8_t*>(other_block.data() + filter_at));
    Runner r2;
    EXPECT_EQ(r2.load(other_block), runtime::Status::kBadParams) << "a filter blocked for another kernel loaded";
    // The retired int16 packing (4) and the plain packing's blob relabelled blocked.
    const uint32_t packing_at = op.params_offset + offsetof(runtime::BasicOpParams, packing);
    auto retired = tem;
    retired[packing_at] = 4;
    Runner r3;
    EXPECT_EQ(r3.load(retired), runtime::Status::kBadParams) << "packing 4 (int16 weight copy) loaded";
    Runner plain_ok;
    ASSERT_EQ(plain_ok.load(plain), runtime::Status::kOk);
    auto relabelled = plain;
    relabelled[plain_ok.model.op(0).params_offset + offsetof(runtime::BasicOpParams, packing)] =
        static_cast<uint8_t>(runtime::TemPacking::kBiasScalesBlockedFilter);
    Runner r4;
    EXPECT_EQ(r4.load(relabelled), runtime::Status::kBadParams) << "a plain filter relabelled blocked loaded";
  }
}

}  // namespace
}  // namespace tinyedge::testing
