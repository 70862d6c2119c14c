// Graph -> .tem: resolve parameters, plan the arena, lay out the blob, and self-check it with
// the node's own loader before handing it back.
#include "deploy/model/compile.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>

#include "deploy/model/planner.h"
#include "deploy/model/quantize.h"
#include "node_firmware/runtime/in_place.h"
#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/model.h"
#include "node_firmware/runtime/tem_format.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

static_assert(static_cast<int>(DataType::kInt16) == static_cast<int>(rt::TemType::kInt16) &&
              static_cast<int>(DataType::kFloat32) == static_cast<int>(rt::TemType::kFloat32) &&
              static_cast<int>(DataType::kBool) == static_cast<int>(rt::TemType::kBool));

class Fail {
 public:
  Fail(const Graph& g, size_t op_index) : g_(g), i_(op_index) {}
  [[noreturn]] void operator()(const std::string& what, int tensor = -1) const {
    std::ostringstream s;
    s << "op " << i_ << " (" << to_string(g_.ops[i_].kind) << ")";
    if (tensor >= 0 && tensor < static_cast<int>(g_.tensors.size())) {
      s << ", tensor " << tensor << " '" << g_.tensors[tensor].name << "'";
    }
    s << ": " << what;
    throw CompileError(s.str());
  }

 private:
  const Graph& g_;
  size_t i_;
};

int32_t dim(const Tensor& t, size_t i) { return i < t.shape.size() ? t.shape[i] : 1; }
float scale_of(const Tensor& t) { return t.quant.scales.empty() ? 0.0f : t.quant.scales[0]; }
int32_t zp_of(const Tensor& t) { return t.quant.zero_points.empty() ? 0 : t.quant.zero_points[0]; }

int32_t read_i32(const Tensor& t, size_t i) {
  uint32_t v = 0;
  for (int b = 0; b < 4; ++b) v |= uint32_t{t.data[i * 4 + b]} << (8 * b);
  return static_cast<int32_t>(v);
}

// TFLite's SAME/VALID geometry.
struct Geometry {
  int32_t out = 0, pad = 0;
};
Geometry geometry(Padding p, int32_t in, int32_t filter, int32_t stride, int32_t dilation) {
  const int32_t eff = (filter - 1) * dilation + 1;
  Geometry g;
  g.out = p == Padding::kSame ? (in + stride - 1) / stride : (in + stride - eff) / stride;
  const int32_t total = std::max(0, (g.out - 1) * stride + eff - in);
  g.pad = p == Padding::kSame ? total / 2 : 0;
  return g;
}

struct Lowered {
  rt::TemOp op{};
  rt::BasicOpParams p{};  // the params blob
  std::vector<int32_t> quant;   // multipliers then shifts
  std::vector<int32_t> packed;  // optimised-kernel data: folded bias
  std::vector<int8_t> packed_weights;  // optional, follows the folded bias (TemPacking)
  std::vector<int> tensors;     // graph tensor indices: inputs..., output
};

class Compiler {
 public:
  Compiler(const Graph& g, const ModelMetadata& m, const CompileOptions& o) : g_(g), meta_(m), opts_(o) {}

  CompiledModel run() {
    check_graph();
    for (size_t i = 0; i < g_.ops.size(); ++i) lowered_.push_back(lower(i));
    number_tensors();
    plan();
    return write();
  }

 private:
  void check_graph() {
    if (g_.inputs.empty() || g_.outputs.empty()) throw CompileError("graph needs at least one input and one output");
    if (g_.inputs.size() > rt::kMaxGraphIo || g_.outputs.size() > rt::kMaxGraphIo) {
      throw CompileError("graph has more inputs or outputs than the runtime supports (" +
                         std::to_string(rt::kMaxGraphIo) + ")");
    }
    if (g_.ops.empty()) throw CompileError("graph has no ops");
    if (g_.ops.size() > rt::kMaxOps) throw CompileError("graph has more ops than the runtime supports (" + std::to_string(rt::kMaxOps) + ")");
    const int n = static_cast<int>(g_.tensors.size());
    auto valid = [&](int t) { return t >= 0 && t < n; };
    for (int t : g_.inputs) {
      if (!valid(t)) throw CompileError("graph input index out of range");
    }
    for (int t : g_.outputs) {
      if (!valid(t)) throw CompileError("graph output index out of range");
    }
    for (size_t i = 0; i < g_.ops.size(); ++i) {
      const Op& op = g_.ops[i];
      const Fail fail(g_, i);
      if (op.outputs.size() != 1) fail("must have exactly one output");
      for (int t : op.inputs) {
        if (!valid(t)) fail("input tensor index " + std::to_string(t) + " out of range");
      }
      if (!valid(op.outputs[0])) fail("output tensor index out of range");
      const Tensor& out = g_.tensors[op.outputs[0]];
      if (out.is_constant() || out.type != DataType::kInt8) fail("output must be an int8 activation", op.outputs[0]);
    }
    for (const Tensor& t : g_.tensors) {
      for (int32_t d : t.shape) {
        if (d < 1) throw CompileError("tensor '" + t.name + "': dimension out of range (must be >= 1)");
      }
      if (t.shape.size() > rt::kMaxRank) throw CompileError("tensor '" + t.name + "': rank must be at most 6");
      if (t.is_constant() && t.data.size() != t.element_count() * t.element_bytes()) {
        throw CompileError("tensor '" + t.name + "': data size does not match its shape");
      }
    }
  }

  const Tensor& activation(const Fail& fail, int index) const {
    const Tensor& t = g_.tensors[index];
    if (t.is_constant()) fail("expected an activation, got a constant", index);
    if (t.type != DataType::kInt8) fail("only int8 activations are supported", index);
    if (t.quant.scales.size() != 1 || t.quant.zero_points.size() != 1) fail("activation needs per-tensor quantisation", index);
    if (zp_of(t) < -128 || zp_of(t) > 127 || !(scale_of(t) > 0)) fail("bad activation quantisation", index);
    return t;
  }
  const Tensor& constant(const Fail& fail, int index, DataType type) const {
    const Tensor& t = g_.tensors[index];
    if (!t.is_constant()) fail("expected constant data", index);
    if (t.type != type) fail(type == DataType::kInt8 ? "expected int8 weights" : "expected int32 bias", index);
    return t;
  }

  static void set_common(Lowered& l, const Tensor& in, const Tensor& out, Activation act) {
    l.p.input_offset = -zp_of(in);
    l.p.output_offset = zp_of(out);
    const ActivationRange r = activation_range(act, scale_of(out), zp_of(out));
    l.p.act_min = r.min;
    l.p.act_max = r.max;
  }

  static void window(const Fail& fail, Lowered& l, const Op& op, const Tensor& in, const Tensor& out, int32_t fh,
                     int32_t fw) {
    const OpOptions& o = op.options;
    if (o.stride_h < 1 || o.stride_w < 1 || o.stride_h > 255 || o.stride_w > 255) fail("stride out of range 1..255");
    if (o.dilation_h < 1 || o.dilation_w < 1 || o.dilation_h > 255 || o.dilation_w > 255) fail("dilation out of range");
    const Geometry gy = geometry(o.padding, dim(in, 1), fh, o.stride_h, o.dilation_h);
    const Geometry gx = geometry(o.padding, dim(in, 2), fw, o.stride_w, o.dilation_w);
    if (in.shape.size() != 4 || out.shape.size() != 4) fail("input and output must be 4-D NHWC");
    if (gy.out != dim(out, 1) || gx.out != dim(out, 2)) {
      fail("output shape " + std::to_string(dim(out, 1)) + "x" + std::to_string(dim(out, 2)) + " does not match geometry " +
           std::to_string(gy.out) + "x" + std::to_string(gx.out), op.outputs[0]);
    }
    if (gy.pad > 255 || gx.pad > 255) fail("padding too large");
    l.p.stride_h = static_cast<uint8_t>(o.stride_h);
    l.p.stride_w = static_cast<uint8_t>(o.stride_w);
    l.p.dilation_h = static_cast<uint8_t>(o.dilation_h);
    l.p.dilation_w = static_cast<uint8_t>(o.dilation_w);
    l.p.pad_top = static_cast<uint8_t>(gy.pad);
    l.p.pad_left = static_cast<uint8_t>(gx.pad);
  }

  // Per-channel (or per-tensor) output multipliers, TFLite's PopulateConvolutionQuantizationParams.
  static void conv_quant(const Fail& fail, Lowered& l, const Tensor& in, const Tensor& filter, const Tensor& out,
                         int32_t channels, bool fc) {
    const size_t n = filter.quant.scales.size();
    if (n != 1 && n != static_cast<size_t>(channels)) fail("filter scales must be per tensor or per output channel");
    for (int32_t zp : filter.quant.zero_points) {
      if (zp != 0) fail("filter zero points must be 0 (symmetric int8 weights)");
    }
    std::vector<int32_t> mult(n), shift(n);
    for (size_t c = 0; c < n; ++c) {
      double real;
      if (fc && n == 1) {
        // TFLite GetQuantizedConvolutionMultipler: the scale product is taken in float.
        real = static_cast<double>(scale_of(in) * filter.quant.scales[0]) / static_cast<double>(scale_of(out));
      } else {
        real = static_cast<double>(scale_of(in)) * static_cast<double>(filter.quant.scales[c]) /
               static_cast<double>(scale_of(out));
      }
      if (!(real >= 0) || !std::isfinite(real)) fail("non-finite requantisation scale");
      int s = 0;
      quantize_multiplier(real, &mult[c], &s);
      if (s > 30 || s < -31) fail("requantisation shift out of range");
      shift[c] = s;
    }
    l.quant = mult;
    l.quant.insert(l.quant.end(), shift.begin(), shift.end());
    l.op.quant_count = static_cast<uint32_t>(n);
  }

  // packed[oc] = bias[oc] + input_offset * sum of the filter taps feeding output channel oc.
  static std::vector<int32_t> fold_bias(const Tensor& bias, int32_t input_offset, const std::vector<int64_t>& filter_sums) {
    std::vector<int32_t> packed(filter_sums.size());
    for (size_t c = 0; c < packed.size(); ++c) {
      const int64_t v = int64_t{read_i32(bias, c)} + int64_t{input_offset} * filter_sums[c];
      packed[c] = static_cast<int32_t>(static_cast<uint32_t>(v));  // wraps exactly like the int32 kernel sum
    }
    return packed;
  }

  Lowered lower(size_t i) {
    const Op& op = g_.ops[i];
    const Fail fail(g_, i);
    Lowered l;
    l.op.input_count = static_cast<uint8_t>(op.inputs.size());
    l.p.depth_multiplier = 1;
    const int out_index = op.outputs[0];
    auto need_inputs = [&](size_t n) {
      if (op.inputs.size() != n) fail("expects " + std::to_string(n) + " inputs, got " + std::to_string(op.inputs.size()));
    };
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kDepthwiseConv2D: {
        need_inputs(3);
        const bool dw = op.kind == OpKind::kDepthwiseConv2D;
        const Tensor& in = activation(fail, op.inputs[0]);
        const Tensor& filter = constant(fail, op.inputs[1], DataType::kInt8);
        const Tensor& bias = constant(fail, op.inputs[2], DataType::kInt32);
        const Tensor& out = activation(fail, out_index);
        if (filter.shape.size() != 4) fail("filter must be 4-D", op.inputs[1]);
        const int32_t oc = dim(out, 3);
        const int32_t kh = dim(filter, 1), kw = dim(filter, 2);
        if (dw) {
          const int32_t dm = op.options.depth_multiplier;
          if (dim(filter, 0) != 1 || dim(filter, 3) != oc) fail("depthwise filter must be [1,KH,KW,out_channels]", op.inputs[1]);
          if (dm < 1 || dm > 255 || dim(in, 3) * dm != oc) fail("out channels must be in channels * depth_multiplier");
          l.p.depth_multiplier = static_cast<uint8_t>(dm);
        } else {
          if (dim(filter, 0) != oc || dim(filter, 3) != dim(in, 3)) fail("filter must be [out,KH,KW,in]", op.inputs[1]);
        }
        if (bias.element_count() != static_cast<size_t>(oc)) fail("bias must have one value per output channel", op.inputs[2]);
        if (dim(in, 0) != dim(out, 0)) fail("batch mismatch");
        l.op.kernel = static_cast<uint16_t>(dw ? rt::Kernel::kDepthwiseConv2D : rt::Kernel::kConv2D);
        window(fail, l, op, in, out, kh, kw);
        set_common(l, in, out, op.options.activation);
        conv_quant(fail, l, in, filter, out, oc, false);
        std::vector<int64_t> sums(oc, 0);
        const auto* w = reinterpret_cast<const int8_t*>(filter.data.data());
        if (dw) {
          for (int32_t t = 0; t < kh * kw; ++t) {
            for (int32_t c = 0; c < oc; ++c) sums[c] += w[t * oc + c];
          }
        } else {
          const size_t len = filter.element_count() / oc;
          for (int32_t c = 0; c < oc; ++c) {
            for (size_t k = 0; k < len; ++k) sums[c] += w[c * len + k];
          }
        }
        l.packed = fold_bias(bias, l.p.input_offset, sums);
        const int32_t k = static_cast<int32_t>(filter.element_count() / oc);
        if (!dw && k < 64 && oc >= 8) {
          // Short dot products vectorise badly: give the kernel [K][O] weights to run over channels.
          l.p.packing = static_cast<uint8_t>(rt::TemPacking::kBiasTransposedConv);
          l.packed_weights.resize(static_cast<size_t>(k) * oc);
          for (int32_t c = 0; c < oc; ++c) {
            for (int32_t i = 0; i < k; ++i) l.packed_weights[static_cast<size_t>(i) * oc + c] = w[c * k + i];
          }
        }
        break;
      }
      case OpKind::kFullyConnected: {
        need_inputs(3);
        const Tensor& in = activation(fail, op.inputs[0]);
        const Tensor& filter = constant(fail, op.inputs[1], DataType::kInt8);
        const Tensor& bias = constant(fail, op.inputs[2], DataType::kInt32);
        const Tensor& out = activation(fail, out_index);
        if (filter.shape.size() != 2) fail("filter must be [units, depth]", op.inputs[1]);
        const int32_t units = filter.shape[0], depth = filter.shape[1];
        if (in.element_count() % depth != 0) fail("input size is not a multiple of the filter depth", op.inputs[0]);
        if (out.element_count() != in.element_count() / depth * units || out.shape.back() != units) {
          fail("output shape does not match [batches, units]", out_index);
        }
        if (bias.element_count() != static_cast<size_t>(units)) fail("bias must have one value per unit", op.inputs[2]);
        l.op.kernel = static_cast<uint16_t>(rt::Kernel::kFullyConnected);
        set_common(l, in, out, op.options.activation);
        conv_quant(fail, l, in, filter, out, units, true);
        std::vector<int64_t> sums(units, 0);
        const auto* w = reinterpret_cast<const int8_t*>(filter.data.data());
        for (int32_t u = 0; u < units; ++u) {
          for (int32_t d = 0; d < depth; ++d) sums[u] += w[u * depth + d];
        }
        l.packed = fold_bias(bias, l.p.input_offset, sums);
        break;
      }
      case OpKind::kAveragePool2D:
      case OpKind::kMaxPool2D: {
        need_inputs(1);
        const Tensor& in = activation(fail, op.inputs[0]);
        const Tensor& out = activation(fail, out_index);
        if (scale_of(in) != scale_of(out) || zp_of(in) != zp_of(out)) fail("pool input and output quantisation must match");
        if (dim(in, 3) != dim(out, 3) || dim(in, 0) != dim(out, 0)) fail("pool must keep batch and channels");
        const int32_t fh = op.options.filter_h, fw = op.options.filter_w;
        if (fh < 1 || fw < 1 || fh > 255 || fw > 255) fail("pool filter size out of range 1..255");
        if (op.options.dilation_h != 1 || op.options.dilation_w != 1) fail("pools take no dilation");
        l.op.kernel = static_cast<uint16_t>(op.kind == OpKind::kAveragePool2D ? rt::Kernel::kAveragePool2D : rt::Kernel::kMaxPool2D);
        window(fail, l, op, in, out, fh, fw);
        set_common(l, in, out, op.options.activation);
        l.p.filter_h = static_cast<uint8_t>(fh);
        l.p.filter_w = static_cast<uint8_t>(fw);
        break;
      }
      case OpKind::kAdd: {
        need_inputs(2);
        const Tensor& a = activation(fail, op.inputs[0]);
        const Tensor& b = activation(fail, op.inputs[1]);
        const Tensor& out = activation(fail, out_index);
        if (a.shape != b.shape || a.element_count() != out.element_count()) fail("broadcasting ADD is not supported");
        l.op.kernel = static_cast<uint16_t>(rt::Kernel::kAdd);
        set_common(l, a, out, op.options.activation);
        l.p.input2_offset = -zp_of(b);
        const AddParams p = add_params(scale_of(a), scale_of(b), scale_of(out));
        if (p.input1_shift > 0 || p.input2_shift > 0 || p.output_shift > 0) fail("ADD output scale too small for int8 requantisation");
        l.p.extra[0] = p.left_shift;
        l.p.extra[1] = p.input1_multiplier;
        l.p.extra[2] = p.input1_shift;
        l.p.extra[3] = p.input2_multiplier;
        l.p.extra[4] = p.input2_shift;
        l.quant = {p.output_multiplier, p.output_shift};
        l.op.quant_count = 1;
        break;
      }
      case OpKind::kReshape: {
        if (op.inputs.empty() || op.inputs.size() > 2) fail("expects 1 or 2 inputs");
        const Tensor& in = activation(fail, op.inputs[0]);
        const Tensor& out = activation(fail, out_index);
        if (in.element_count() != out.element_count()) fail("reshape must keep the element count", out_index);
        l.op.kernel = static_cast<uint16_t>(rt::Kernel::kReshape);
        l.op.input_count = 1;
        set_common(l, in, out, Activation::kNone);
        l.tensors = {op.inputs[0], out_index};
        return l;
      }
      case OpKind::kSoftmax: {
        need_inputs(1);
        const Tensor& in = activation(fail, op.inputs[0]);
        const Tensor& out = activation(fail, out_index);
        if (zp_of(out) != -128 || std::fabs(scale_of(out) - 1.0f / 256) > 1e-8f) {
          fail("int8 softmax output must have scale 1/256 and zero point -128", out_index);
        }
        if (in.shape != out.shape) fail("softmax must keep its shape");
        if (in.shape.back() > 256) fail("softmax over more than 256 classes is not supported");
        l.op.kernel = static_cast<uint16_t>(rt::Kernel::kSoftmax);
        set_common(l, in, out, Activation::kNone);
        const SoftmaxParams p = softmax_params(op.options.beta, scale_of(in));
        if (p.beta_left_shift < 0 || p.beta_left_shift > 30) fail("softmax beta * input scale out of range");
        l.p.extra[0] = p.beta_multiplier;
        l.p.extra[1] = p.beta_left_shift;
        l.p.extra[2] = p.diff_min;
        break;
      }
    }
    l.tensors = op.inputs;
    l.tensors.push_back(out_index);
    return l;
  }

  // Only tensors the lowered ops reference go into the file.
  void number_tensors() {
    auto use = [&](int t) {
      if (!index_.count(t)) {
        index_[t] = static_cast<uint16_t>(order_.size());
        order_.push_back(t);
      }
    };
    for (int t : g_.inputs) use(t);
    for (const Lowered& l : lowered_) {
      for (int t : l.tensors) use(t);
    }
    for (int t : g_.outputs) use(t);
    if (order_.size() > rt::kMaxTensors) throw CompileError("graph has more tensors than the runtime supports (" + std::to_string(rt::kMaxTensors) + ")");
    for (const std::vector<int>* io : {&g_.inputs, &g_.outputs}) {
      for (int t : *io) {
        if (g_.tensors[t].is_constant()) throw CompileError("graph input/output '" + g_.tensors[t].name + "' is a constant");
      }
    }
  }

  void plan() {
    // Buffers: one per activation, except a reshape output shares its dying input's buffer.
    const int steps = static_cast<int>(lowered_.size());
    std::map<int, int> buffer_of;  // graph tensor -> buffer
    std::vector<PlanBuffer> bufs;
    std::map<int, int> first, last;
    for (int t : g_.inputs) first[t] = last[t] = 0;
    for (int s = 0; s < steps; ++s) {
      const Lowered& l = lowered_[s];
      for (size_t k = 0; k + 1 < l.tensors.size(); ++k) {
        if (!g_.tensors[l.tensors[k]].is_constant()) last[l.tensors[k]] = s;
      }
      const int out = l.tensors.back();
      if (first.count(out)) throw CompileError("tensor '" + g_.tensors[out].name + "' is written twice or is the graph input");
      first[out] = s;
      last[out] = s;
    }
    for (int t : g_.outputs) {
      if (!first.count(t)) throw CompileError("graph output '" + g_.tensors[t].name + "' is never produced");
      last[t] = steps;
    }
    auto is_graph_input = [&](int t) { return std::find(g_.inputs.begin(), g_.inputs.end(), t) != g_.inputs.end(); };
    for (const Lowered& l : lowered_) {
      for (int t : l.tensors) {
        if (!g_.tensors[t].is_constant() && !first.count(t)) {
          throw CompileError("tensor '" + g_.tensors[t].name + "' is read before it is written");
        }
      }
    }
    std::vector<int> by_birth;
    for (auto& [t, f] : first) by_birth.push_back(t);
    auto birth = [&](int t) { return is_graph_input(t) ? -1 : first[t]; };
    std::stable_sort(by_birth.begin(), by_birth.end(), [&](int a, int b) { return birth(a) < birth(b); });
    for (int t : by_birth) {
      if (opts_.in_place && !is_graph_input(t)) {
        // Alias a reshape output onto its input when the input dies at the reshape.
        const int s = first[t];
        const Lowered& l = lowered_[s];
        if (l.op.kernel == static_cast<uint16_t>(rt::Kernel::kReshape) && last[l.tensors[0]] == s) {
          const int b = buffer_of.at(l.tensors[0]);
          buffer_of[t] = b;
          bufs[b].last = std::max(bufs[b].last, last[t]);
          continue;
        }
      }
      buffer_of[t] = static_cast<int>(bufs.size());
      bufs.push_back(PlanBuffer{static_cast<uint32_t>(g_.tensors[t].element_count()), first[t], last[t]});
    }
    std::vector<InPlaceRule> rules;
    if (opts_.in_place) {
      for (int s = 0; s < steps; ++s) {
        const Lowered& l = lowered_[s];
        const auto kernel = static_cast<rt::Kernel>(l.op.kernel);
        const int out = l.tensors.back();
        const int ob = buffer_of[out];
        auto dying = [&](int t) { return !g_.tensors[t].is_constant() && last[t] == s && bufs[buffer_of[t]].last == s; };
        if (kernel == rt::Kernel::kAdd || kernel == rt::Kernel::kSoftmax) {
          for (size_t k = 0; k + 1 < l.tensors.size(); ++k) {
            if (dying(l.tensors[k])) rules.push_back({buffer_of[l.tensors[k]], ob, true, 0});
          }
        } else if (kernel == rt::Kernel::kConv2D || kernel == rt::Kernel::kDepthwiseConv2D ||
                   kernel == rt::Kernel::kAveragePool2D || kernel == rt::Kernel::kMaxPool2D) {
          const Tensor& in = g_.tensors[l.tensors[0]];
          const Tensor& o = g_.tensors[out];
          if (dying(l.tensors[0]) && dim(in, 0) == 1) {
            const rt::WindowGeometry geo{dim(in, 1), dim(in, 2) * dim(in, 3), dim(o, 1), dim(o, 2) * dim(o, 3),
                                         l.p.stride_h, l.p.pad_top};
            rules.push_back({buffer_of[l.tensors[0]], ob, false, rt::in_place_gap(geo)});
          }
        }
      }
    }
    const Plan p = plan_arena(bufs, rules);
    arena_bytes_ = std::max<uint32_t>(p.arena_bytes, 1);
    for (auto& [t, b] : buffer_of) arena_offset_[t] = p.offsets[b];
  }

  CompiledModel write() {
    std::vector<uint8_t> blob(sizeof(rt::TemHeader), 0);
    auto align = [&](size_t a) {
      while (blob.size() % a) blob.push_back(0);
    };
    auto append = [&](const void* p, size_t n) {
      const size_t at = blob.size();
      blob.resize(at + n);
      if (n) std::memcpy(blob.data() + at, p, n);
      return static_cast<uint32_t>(at);
    };
    auto append_indices = [&](const std::vector<uint16_t>& v) {
      align(4);
      return append(v.data(), v.size() * 2);
    };
    rt::TemHeader h{};
    h.magic = rt::kTemMagic;
    h.format_version = rt::kTemFormatVersion;
    h.header_bytes = sizeof(rt::TemHeader);
    h.model_id = meta_.model_id;
    h.model_version = meta_.version;
    h.arena_bytes = arena_bytes_;
    h.tensor_count = static_cast<uint16_t>(order_.size());
    h.op_count = static_cast<uint16_t>(lowered_.size());
    h.input_count = static_cast<uint16_t>(g_.inputs.size());
    h.output_count = static_cast<uint16_t>(g_.outputs.size());
    if (meta_.labels.size() > 65535) throw CompileError("too many labels");
    h.label_count = static_cast<uint16_t>(meta_.labels.size());

    const size_t tensors_at = blob.size();
    blob.resize(blob.size() + order_.size() * sizeof(rt::TemTensor));
    const size_t ops_at = blob.size();
    blob.resize(blob.size() + lowered_.size() * sizeof(rt::TemOp));
    h.tensors_offset = static_cast<uint32_t>(tensors_at);
    h.ops_offset = static_cast<uint32_t>(ops_at);
    h.labels_offset = static_cast<uint32_t>(blob.size());
    const size_t labels_at = blob.size();
    blob.resize(blob.size() + meta_.labels.size() * sizeof(rt::TemString));
    h.name = {append(meta_.name.data(), meta_.name.size()), static_cast<uint32_t>(meta_.name.size())};
    h.input_description = {append(meta_.input_description.data(), meta_.input_description.size()),
                           static_cast<uint32_t>(meta_.input_description.size())};
    for (size_t i = 0; i < meta_.labels.size(); ++i) {
      const rt::TemString s{append(meta_.labels[i].data(), meta_.labels[i].size()),
                            static_cast<uint32_t>(meta_.labels[i].size())};
      std::memcpy(blob.data() + labels_at + i * sizeof(rt::TemString), &s, sizeof s);
    }
    std::vector<uint16_t> io;
    for (int t : g_.inputs) io.push_back(index_.at(t));
    for (int t : g_.outputs) io.push_back(index_.at(t));
    h.io_offset = append_indices(io);

    CompiledModel result;
    const size_t weights_start = (blob.size() + 15) & ~size_t{15};
    // Constant tensors (16-aligned so vector loads of weight rows start aligned).
    std::map<int, uint32_t> const_offset;
    for (int t : order_) {
      const Tensor& tensor = g_.tensors[t];
      if (!tensor.is_constant()) continue;
      align(16);
      const_offset[t] = append(tensor.data.data(), tensor.data.size());
      result.parameter_count += tensor.element_count();
    }
    std::vector<rt::TemOp> ops;
    for (const Lowered& l : lowered_) {
      rt::TemOp op = l.op;
      std::vector<uint16_t> operands;
      for (size_t k = 0; k < op.input_count; ++k) operands.push_back(index_.at(l.tensors[k]));
      op.output_count = 1;
      operands.push_back(index_.at(l.tensors.back()));
      op.operands_offset = append_indices(operands);
      align(4);
      op.params_offset = append(&l.p, sizeof l.p);
      op.params_bytes = sizeof l.p;
      if (!l.quant.empty()) op.quant_offset = append(l.quant.data(), l.quant.size() * 4);
      if (!l.packed.empty()) {
        op.packed_offset = append(l.packed.data(), l.packed.size() * 4);
        append(l.packed_weights.data(), l.packed_weights.size());
        op.packed_bytes = static_cast<uint32_t>(l.packed.size() * 4 + l.packed_weights.size());
      }
      ops.push_back(op);
    }
    align(4);
    h.weights_bytes = static_cast<uint32_t>(blob.size() - weights_start);
    h.blob_bytes = static_cast<uint32_t>(blob.size());
    std::memcpy(blob.data(), &h, sizeof h);
    std::memcpy(blob.data() + ops_at, ops.data(), ops.size() * sizeof(rt::TemOp));
    for (size_t i = 0; i < order_.size(); ++i) {
      const Tensor& t = g_.tensors[order_[i]];
      rt::TemTensor r{};
      r.type = static_cast<uint8_t>(t.type);  // DataType values are TemType values
      r.rank = static_cast<uint8_t>(t.shape.size());
      for (int d = 0; d < rt::kMaxRank; ++d) r.dims[d] = static_cast<uint32_t>(dim(t, d));
      r.zero_point = zp_of(t);
      r.scale = scale_of(t);
      r.bytes = static_cast<uint32_t>(t.element_count() * t.element_bytes());
      if (t.is_constant()) {
        r.flags = rt::kTensorConstant;
        r.offset = const_offset.at(order_[i]);
      } else {
        r.offset = arena_offset_.at(order_[i]);
      }
      std::memcpy(blob.data() + tensors_at + i * sizeof(rt::TemTensor), &r, sizeof r);
    }

    // The node's loader is the judge: a blob it refuses is a compiler bug, not a user error.
    // Copy into 4-aligned storage (std::vector<uint8_t> data is malloc-aligned already, but be explicit).
    std::vector<uint32_t> aligned((blob.size() + 3) / 4);
    std::memcpy(aligned.data(), blob.data(), blob.size());
    rt::Model check;
    const rt::Status s = rt::Model::load({reinterpret_cast<const uint8_t*>(aligned.data()), blob.size()}, check);
    if (s != rt::Status::kOk) throw CompileError(std::string("internal: compiled model fails validation: ") + rt::to_string(s));

    result.tem = std::move(blob);
    result.arena_bytes = arena_bytes_;
    result.weight_bytes = h.weights_bytes;
    result.op_count = lowered_.size();
    return result;
  }

  const Graph& g_;
  const ModelMetadata& meta_;
  const CompileOptions& opts_;
  std::vector<Lowered> lowered_;
  std::map<int, uint16_t> index_;
  std::vector<int> order_;
  std::map<int, uint32_t> arena_offset_;
  uint32_t arena_bytes_ = 0;
};

}  // namespace

CompiledModel compile(const Graph& graph, const ModelMetadata& meta, const CompileOptions& options) {
  return Compiler(graph, meta, options).run();
}

}  // namespace tinyedge::model
