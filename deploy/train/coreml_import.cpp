#include "deploy/train/coreml_import.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "coreml_subset.pb.h"
#include "deploy/train/fashion_mnist.h"
#include "deploy/train/image_folder.h"
#include "deploy/train/quantize.h"
#include "deploy/train/runtime_eval.h"
#include "deploy/train/tem_export.h"

namespace tinyedge::train {
namespace {

namespace cm = tinyedge::coreml;

// Bounds that keep a hostile file from asking for absurd buffers; far above what a node runs.
constexpr std::int64_t kMaxDim = 4096;
constexpr std::int64_t kMaxElements = 16 * 1024 * 1024;

// The name of the oneof member a message holds ("mlProgram", "add"), from the schema itself, so
// every refusal names what the file holds in Core ML's own words.
std::string oneof_member(const google::protobuf::Message& m, const char* oneof) {
  const auto* d = m.GetDescriptor()->FindOneofByName(oneof);
  const auto* f = d ? m.GetReflection()->GetOneofFieldDescriptor(m, d) : nullptr;
  return f ? f->name() : "";
}

std::string shape_text(Shape3 s) { return std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c); }

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0)
    v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31)
    v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else
    v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

// float32 or float16 weights, exactly `expected` of them and all finite.
std::vector<float> weights(const cm::WeightParams& w, std::size_t expected, const std::string& where,
                           const std::string& what) {
  if (!w.int8rawvalue().empty() || !w.rawvalue().empty() || !w.quantization().empty())
    throw CoremlError(where + ": " + what + " are quantised or raw bytes; only float32/float16 weights import");
  std::vector<float> v;
  if (w.floatvalue_size() > 0) {
    v.assign(w.floatvalue().begin(), w.floatvalue().end());
  } else {
    const std::string& h = w.float16value();
    if (h.size() % 2) throw CoremlError(where + ": " + what + " float16Value has an odd number of bytes");
    v.resize(h.size() / 2);
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = half_to_float(static_cast<std::uint16_t>(static_cast<std::uint8_t>(h[2 * i]) |
                                                      static_cast<std::uint8_t>(h[2 * i + 1]) << 8));
  }
  if (v.size() != expected)
    throw CoremlError(where + ": " + what + " hold " + std::to_string(v.size()) + " values, the layer needs " +
                      std::to_string(expected));
  for (float x : v)
    if (!std::isfinite(x)) throw CoremlError(where + ": " + what + " hold a value that is not finite");
  return v;
}

// Two entries of a repeated uint64 field (kernelSize, stride, ...), the spec's default when empty.
std::pair<int, int> pair_of(const google::protobuf::RepeatedField<std::uint64_t>& f, int fallback,
                            const std::string& where, const std::string& what) {
  if (f.empty()) return {fallback, fallback};
  if (f.size() != 2 || f[0] < 1 || f[1] < 1 || f[0] > kMaxDim || f[1] > kMaxDim)
    throw CoremlError(where + ": " + what + " must be two positive sizes");
  return {static_cast<int>(f[0]), static_cast<int>(f[1])};
}

Padding padding_of(const cm::ValidPadding* valid, const cm::SamePadding* same, const std::string& where) {
  if (same) {
    if (same->asymmetrymode() != cm::SamePadding::BOTTOM_RIGHT_HEAVY)
      throw CoremlError(where + ": same padding TOP_LEFT_HEAVY is not supported (BOTTOM_RIGHT_HEAVY is)");
    return Padding::kSame;
  }
  if (valid) {
    for (const auto& e : valid->paddingamounts().borderamounts())
      if (e.startedgesize() || e.endedgesize())
        throw CoremlError(where + ": explicit padding amounts are not supported (valid without amounts, or same)");
  }
  return Padding::kValid;
}

// Builds the float chain layer by layer, tracking the current tensor's name and shape.
class ChainBuilder {
 public:
  ChainBuilder(FloatNet& net, std::string input_name, Shape3 input) : net_(net), name_(std::move(input_name)) {
    net_.input = input;
    shape_ = stored_ = input;
    tensors_[name_] = {-1, input};
  }

  void add(const cm::NeuralNetworkLayer& l, std::size_t index) {
    const std::string kind = oneof_member(l, "layer");
    where_ = "layer " + std::to_string(index) + " '" + l.name() + "' (" + (kind.empty() ? "unknown kind" : kind) + ")";
    folded_now_ = false;
    if (l.layer_case() == cm::NeuralNetworkLayer::kAdd)
      residual_add(l);
    else
      one_input_layer(l);
    // A ReLU, ReLU6 or batchnorm folded into the layer before changed what that layer's output
    // tensor holds: its old name is gone, so a later add cannot read the value before the fold.
    if (folded_now_) {
      tensors_.erase(name_);
      folded_[name_] = l.name();
    }
    name_ = l.output(0);
    tensors_[name_] = {static_cast<int>(net_.layers.size()) - 1, shape_};
  }

  Shape3 shape() const { return shape_; }

 private:
  struct Tensor {
    int layer = -1;  // the FloatNet layer whose output holds it, -1 = the net's input
    Shape3 shape;    // Core ML's view of it
  };

  // A residual join: the previous layer's output plus an earlier tensor of the same shape, each
  // operand with its own quantisation (the runtime's ADD requantises both to the sum's scale).
  void residual_add(const cm::NeuralNetworkLayer& l) {
    if (l.input_size() != 2)
      throw CoremlError(where_ + ": add of " + std::to_string(l.input_size()) +
                        " inputs is not supported (only two: a residual join of the previous output and an "
                        "earlier tensor)");
    if (l.output_size() != 1)
      throw CoremlError(where_ + ": " + std::to_string(l.output_size()) + " outputs; add has one");
    if (l.add().alpha() != 0.0f)
      throw CoremlError(where_ + ": alpha " + std::to_string(l.add().alpha()) +
                        " is not supported (a constant added to the sum)");
    const int at = l.input(0) == name_ ? 1 : l.input(1) == name_ ? 0 : -1;
    if (at < 0)
      throw CoremlError(where_ + ": reads '" + l.input(0) + "' and '" + l.input(1) +
                        "', neither the previous output '" + name_ + "'; only a chain with residual joins imports");
    const std::string& other_name = l.input(at);
    const auto it = tensors_.find(other_name);
    if (it == tensors_.end()) {
      const auto f = folded_.find(other_name);
      throw CoremlError(where_ + ": reads '" + other_name + "', " +
                        (f == folded_.end() ? std::string("which no earlier layer wrote")
                                            : "whose value before '" + f->second +
                                                  "' (folded into the layer that wrote it) no longer exists") +
                        "");
    }
    const Tensor other = it->second;
    no_pending_flatten();
    if (!(shape_ == stored_))
      throw CoremlError(where_ + ": adds to a flattened or reshaped tensor; only unflattened tensors add");
    const Shape3 other_stored = other.layer < 0 ? net_.input : net_.layers[static_cast<std::size_t>(other.layer)].out;
    if (!(other.shape == shape_) || !(other_stored == stored_))
      throw CoremlError(where_ + ": adds a " + shape_text(other.shape) + " tensor '" + other_name + "' to a " +
                        shape_text(shape_) + " one; broadcasting is not supported (both operands need one shape)");
    Layer a;
    a.kind = LayerKind::kAdd;
    a.in = a.out = stored_;
    a.skip_from = other.layer;
    push(std::move(a));
  }

  void one_input_layer(const cm::NeuralNetworkLayer& l) {
    if (l.input_size() != 1 || l.output_size() != 1)
      throw CoremlError(where_ + ": " + std::to_string(l.input_size()) + " inputs and " +
                        std::to_string(l.output_size()) + " outputs; only a chain of one-input layers imports");
    if (l.input(0) != name_)
      throw CoremlError(where_ + ": reads '" + l.input(0) + "', not the previous output '" + name_ +
                        "'; only a chain of layers imports (no branches)");
    switch (l.layer_case()) {
      case cm::NeuralNetworkLayer::kConvolution:
        convolution(l.convolution());
        break;
      case cm::NeuralNetworkLayer::kInnerProduct:
        inner_product(l.innerproduct());
        break;
      case cm::NeuralNetworkLayer::kPooling:
        pooling(l.pooling());
        break;
      case cm::NeuralNetworkLayer::kActivation:
        activation(l.activation());
        break;
      case cm::NeuralNetworkLayer::kClip:
        clip(l.clip());
        break;
      case cm::NeuralNetworkLayer::kBatchnorm:
        batchnorm(l.batchnorm());
        break;
      case cm::NeuralNetworkLayer::kFlatten:
        flatten(l.flatten().mode() == cm::FlattenLayerParams::CHANNEL_FIRST);
        break;
      case cm::NeuralNetworkLayer::kReshape:
        reshape(l.reshape());
        break;
      case cm::NeuralNetworkLayer::kSoftmax:
        softmax();
        break;
      default:
        throw CoremlError(where_ +
                          ": layer kind not supported (supported: convolution, innerProduct, pooling, "
                          "activation ReLU, clip [0, 6] (ReLU6), batchnorm, flatten, reshape to a vector, "
                          "softmax, add of two same-shape tensors)");
    }
  }

  void no_pending_flatten() const {
    if (chw_flat_)
      throw CoremlError(where_ + ": follows a channel-first flatten of " + shape_text(flat_from_) +
                        "; only innerProduct may read it");
  }

  void convolution(const cm::ConvolutionLayerParams& p) {
    no_pending_flatten();
    if (p.isdeconvolution()) throw CoremlError(where_ + ": deconvolution is not supported");
    const auto [kh, kw] = pair_of(p.kernelsize(), 3, where_, "kernelSize");
    const auto [sh, sw] = pair_of(p.stride(), 1, where_, "stride");
    const auto [dh, dw] = pair_of(p.dilationfactor(), 1, where_, "dilationFactor");
    if (dh != 1 || dw != 1) throw CoremlError(where_ + ": dilated convolution is not supported");
    const std::int64_t groups = p.ngroups() == 0 ? 1 : static_cast<std::int64_t>(p.ngroups());
    const std::int64_t out_c = static_cast<std::int64_t>(p.outputchannels());
    const std::int64_t kc = static_cast<std::int64_t>(p.kernelchannels());
    if (out_c < 1 || out_c > kMaxDim)
      throw CoremlError(where_ + ": outputChannels must be 1.." + std::to_string(kMaxDim));
    if (kc * groups != shape_.c)
      throw CoremlError(where_ + ": kernelChannels " + std::to_string(kc) + " x nGroups " + std::to_string(groups) +
                        " does not match the input's " + std::to_string(shape_.c) + " channels");
    const bool depthwise = groups > 1;
    if (depthwise && !(groups == shape_.c && out_c == shape_.c && kc == 1))
      throw CoremlError(where_ + ": grouped convolution with nGroups " + std::to_string(groups) +
                        " is not supported (only nGroups = channels = outputChannels: depthwise)");
    Layer l;
    l.kind = depthwise ? LayerKind::kDepthwiseConv2D : LayerKind::kConv2D;
    l.in = shape_;
    l.kernel_h = kh;
    l.kernel_w = kw;
    l.stride_h = sh;
    l.stride_w = sw;
    l.padding = padding_of(p.has_valid() ? &p.valid() : nullptr, p.has_same() ? &p.same() : nullptr, where_);
    l.out = {conv_out_size(shape_.h, kh, sh, l.padding), conv_out_size(shape_.w, kw, sw, l.padding),
             static_cast<int>(out_c)};
    if (l.out.h < 1 || l.out.w < 1)
      throw CoremlError(where_ + ": a " + std::to_string(kh) + "x" + std::to_string(kw) + " kernel does not fit the " +
                        shape_text(shape_) + " input");
    // Core ML: [outputChannels][kernelChannels][kh][kw]; ours: OHWI, or [kh][kw][c] for depthwise.
    const std::vector<float> w =
        weights(p.weights(), static_cast<std::size_t>(out_c * kc * kh * kw), where_, "weights");
    l.weights.resize(w.size());
    for (int o = 0; o < out_c; ++o)
      for (int i = 0; i < kc; ++i)
        for (int y = 0; y < kh; ++y)
          for (int x = 0; x < kw; ++x) {
            const float v = w[((o * kc + i) * kh + y) * kw + x];
            if (depthwise)
              l.weights[(y * kw + x) * out_c + o] = v;
            else
              l.weights[((o * kh + y) * kw + x) * kc + i] = v;
          }
    l.bias = p.hasbias() ? weights(p.bias(), static_cast<std::size_t>(out_c), where_, "bias")
                         : std::vector<float>(static_cast<std::size_t>(out_c), 0.0f);
    push(std::move(l));
  }

  void inner_product(const cm::InnerProductLayerParams& p) {
    const std::int64_t in = static_cast<std::int64_t>(p.inputchannels()),
                       out = static_cast<std::int64_t>(p.outputchannels());
    if (shape_.h != 1 || shape_.w != 1)
      throw CoremlError(where_ + ": input is " + shape_text(shape_) + "; innerProduct needs a flattened (C,1,1) input");
    if (in != shape_.c)
      throw CoremlError(where_ + ": inputChannels " + std::to_string(in) + " but the input has " +
                        std::to_string(shape_.c) + " values");
    if (out < 1 || out > kMaxElements / std::max<std::int64_t>(in, 1))
      throw CoremlError(where_ + ": outputChannels " + std::to_string(out) + " out of range");
    if (p.int8dynamicquantize()) throw CoremlError(where_ + ": int8DynamicQuantize is not supported");
    Layer l;
    l.kind = LayerKind::kFullyConnected;
    l.in = stored_;  // our dense layer reads its input tensor as is (a flatten is only a new view)
    l.out = {1, 1, static_cast<int>(out)};
    const std::vector<float> w = weights(p.weights(), static_cast<std::size_t>(out * in), where_, "weights");
    l.weights = w;
    if (chw_flat_) {
      // The flattened vector is in Core ML's C,H,W order; our activations are H,W,C.
      const Shape3 s = flat_from_;
      for (int o = 0; o < out; ++o)
        for (int c = 0; c < s.c; ++c)
          for (int y = 0; y < s.h; ++y)
            for (int x = 0; x < s.w; ++x)
              l.weights[o * in + (y * s.w + x) * s.c + c] = w[o * in + (c * s.h + y) * s.w + x];
      chw_flat_ = false;
    }
    l.bias = p.hasbias() ? weights(p.bias(), static_cast<std::size_t>(out), where_, "bias")
                         : std::vector<float>(static_cast<std::size_t>(out), 0.0f);
    push(std::move(l));
  }

  void pooling(const cm::PoolingLayerParams& p) {
    no_pending_flatten();
    if (p.type() != cm::PoolingLayerParams::MAX && p.type() != cm::PoolingLayerParams::AVERAGE)
      throw CoremlError(where_ + ": pooling type " + cm::PoolingLayerParams::PoolingType_Name(p.type()) +
                        " is not supported (MAX, AVERAGE)");
    Layer l;
    l.kind = p.type() == cm::PoolingLayerParams::MAX ? LayerKind::kMaxPool2D : LayerKind::kAveragePool2D;
    l.in = shape_;
    if (p.globalpooling()) {
      l.kernel_h = shape_.h;
      l.kernel_w = shape_.w;
    } else {
      if (p.PoolingPaddingType_case() == cm::PoolingLayerParams::kIncludeLastPixel)
        throw CoremlError(where_ + ": includeLastPixel padding is not supported (valid or same)");
      std::tie(l.kernel_h, l.kernel_w) = pair_of(p.kernelsize(), 3, where_, "kernelSize");
      std::tie(l.stride_h, l.stride_w) = pair_of(p.stride(), 1, where_, "stride");
      l.padding = padding_of(p.has_valid() ? &p.valid() : nullptr, p.has_same() ? &p.same() : nullptr, where_);
    }
    l.out = {conv_out_size(shape_.h, l.kernel_h, l.stride_h, l.padding),
             conv_out_size(shape_.w, l.kernel_w, l.stride_w, l.padding), shape_.c};
    if (l.out.h < 1 || l.out.w < 1)
      throw CoremlError(where_ + ": the window does not fit the " + shape_text(shape_) + " input");
    // Our average divides by the cells inside the input; Core ML's does so only when asked.
    const bool pads = l.padding == Padding::kSame && ((l.out.h - 1) * l.stride_h + l.kernel_h > shape_.h ||
                                                      (l.out.w - 1) * l.stride_w + l.kernel_w > shape_.w);
    if (l.kind == LayerKind::kAveragePool2D && pads && !p.avgpoolexcludepadding())
      throw CoremlError(where_ + ": average pooling that counts padding is not supported (set avgPoolExcludePadding)");
    push(std::move(l));
  }

  // The layer that produced the current tensor, if it is one a ReLU or batchnorm folds into.
  // The layer an activation (or, with weighted_only, a batchnorm) folds into: the last one, if it
  // wrote the current tensor. An add takes a fused activation as the runtime's ADD does.
  Layer* foldable(bool weighted_only = false) {
    if (net_.layers.empty() || !produced_by_last_) return nullptr;
    Layer& l = net_.layers.back();
    const bool weighted =
        l.kind == LayerKind::kConv2D || l.kind == LayerKind::kDepthwiseConv2D || l.kind == LayerKind::kFullyConnected;
    return (weighted || (!weighted_only && l.kind == LayerKind::kAdd)) && !l.relu ? &l : nullptr;
  }

  void activation(const cm::ActivationParams& p) {
    const std::string kind = oneof_member(p, "NonlinearityType");
    if (p.NonlinearityType_case() == cm::ActivationParams::kLinear) {
      if (p.linear().alpha() == 1.0f && p.linear().beta() == 0.0f) return;  // identity
      throw CoremlError(where_ + ": linear activation other than alpha 1, beta 0 is not supported");
    }
    if (p.NonlinearityType_case() != cm::ActivationParams::kReLU)
      throw CoremlError(where_ + ": activation " + (kind.empty() ? "(none)" : kind) + " is not supported (ReLU is)");
    Layer* l = foldable();
    if (!l) throw CoremlError(where_ + ": ReLU must follow a convolution, innerProduct or add (it is fused into it)");
    l->relu = true;
    folded_now_ = true;
  }

  // clip(0, 6) is how converters write ReLU6: fused like a ReLU, capped at 6.
  void clip(const cm::ClipLayerParams& p) {
    if (p.minval() != 0.0f || p.maxval() != 6.0f)
      throw CoremlError(where_ + ": clip to [" + std::to_string(p.minval()) + ", " + std::to_string(p.maxval()) +
                        "] is not supported (only [0, 6]: ReLU6)");
    Layer* l = foldable();
    if (!l) throw CoremlError(where_ + ": ReLU6 must follow a convolution, innerProduct or add (it is fused into it)");
    l->relu = l->relu6 = true;
    folded_now_ = true;
  }

  void batchnorm(const cm::BatchnormLayerParams& p) {
    if (p.computemeanvar() || p.instancenormalization())
      throw CoremlError(where_ + ": computeMeanVar/instanceNormalization is not supported (fixed statistics are)");
    Layer* l = foldable(true);
    if (!l) throw CoremlError(where_ + ": batchnorm must follow a convolution or innerProduct (it is folded into it)");
    const int c = l->out.c;
    if (static_cast<std::int64_t>(p.channels()) != c)
      throw CoremlError(where_ + ": channels " + std::to_string(p.channels()) + " but the input has " +
                        std::to_string(c));
    const auto n = static_cast<std::size_t>(c);
    const auto gamma = weights(p.gamma(), n, where_, "gamma"), beta = weights(p.beta(), n, where_, "beta");
    const auto mean = weights(p.mean(), n, where_, "mean"), var = weights(p.variance(), n, where_, "variance");
    const bool depthwise = l->kind == LayerKind::kDepthwiseConv2D;
    const std::size_t per = l->weights.size() / n;
    for (std::size_t o = 0; o < n; ++o) {
      if (var[o] + p.epsilon() <= 0) throw CoremlError(where_ + ": variance + epsilon is not positive");
      const float k = gamma[o] / std::sqrt(var[o] + p.epsilon());
      for (std::size_t i = 0; i < per; ++i) l->weights[depthwise ? i * n + o : o * per + i] *= k;
      l->bias[o] = (l->bias[o] - mean[o]) * k + beta[o];
    }
    folded_now_ = true;
  }

  void flatten(bool channel_first) {
    if (chw_flat_) return;  // already a vector in C,H,W order
    if (channel_first && shape_.c > 1 && shape_.h * shape_.w > 1) {
      chw_flat_ = true;
      flat_from_ = shape_;
    }
    shape_ = {1, 1, shape_.size()};
  }

  void reshape(const cm::ReshapeLayerParams& p) {
    std::int64_t n = 1, non_unit = 0;
    for (std::int64_t d : p.targetshape()) {
      if (d < 1 || d > kMaxElements) throw CoremlError(where_ + ": targetShape holds " + std::to_string(d));
      n *= d;
      if (d > 1) ++non_unit;
    }
    const auto& t = p.targetshape();
    const bool to_vector = (t.size() == 3 || t.size() == 4) && n == shape_.size() && t[t.size() - 1] == 1 &&
                           t[t.size() - 2] == 1 && non_unit <= 1;
    if (!to_vector) throw CoremlError(where_ + ": only a reshape to a flat (C,1,1) vector is supported");
    flatten(p.mode() == cm::ReshapeLayerParams::CHANNEL_FIRST);
  }

  void softmax() {
    no_pending_flatten();
    if (shape_.h != 1 || shape_.w != 1)
      throw CoremlError(where_ + ": softmax over a " + shape_text(shape_) + " tensor; only over a vector");
    Layer l;
    l.kind = LayerKind::kSoftmax;
    l.in = l.out = shape_;
    push(std::move(l));
  }

  void push(Layer l) {
    if (static_cast<std::int64_t>(l.out.size()) > kMaxElements) throw CoremlError(where_ + ": output too large");
    shape_ = stored_ = l.out;
    net_.layers.push_back(std::move(l));
    produced_by_last_ = true;
  }

  FloatNet& net_;
  std::string name_;
  Shape3 shape_;   // Core ML's view of the current tensor (a flatten makes it C x 1 x 1)
  Shape3 stored_;  // the shape of the tensor the last layer wrote (what our layers read)
  std::string where_;
  bool chw_flat_ = false;  // the current vector is a C,H,W flatten of flat_from_
  Shape3 flat_from_;
  bool produced_by_last_ = false;
  std::map<std::string, Tensor> tensors_;      // every tensor a later add may read, by name
  std::map<std::string, std::string> folded_;  // tensor -> the layer folded into its writer
  bool folded_now_ = false;                    // this layer folded into the one before
};

// The image input's Core ML value is scale * pixel + bias[c]; ours is pixel / 255. The first
// layer absorbs it: w' = 255 scale w, b' = b + sum(w * bias[c]) (exact where no padding is read).
void fold_image_scaler(FloatNet& net, float scale, const std::vector<float>& bias) {
  const bool any_bias = std::any_of(bias.begin(), bias.end(), [](float b) { return b != 0.0f; });
  const float k = 255.0f * scale;
  if (k == 1.0f && !any_bias) return;
  for (const Layer& l : net.layers)
    if (l.kind == LayerKind::kAdd && l.skip_from < 0)
      throw CoremlError(
          "preprocessing: an add reads the image input itself, so its scaler cannot be folded into the first layer");
  if (net.layers.empty()) throw CoremlError("preprocessing: the network has no layer to fold the image scaler into");
  Layer& l = net.layers.front();
  const int c = net.input.c;
  switch (l.kind) {
    case LayerKind::kConv2D:
    case LayerKind::kDepthwiseConv2D:
      if (any_bias && l.padding == Padding::kSame)
        throw CoremlError(
            "preprocessing: image biases with a first same-padded convolution are not supported "
            "(the padding would see the bias)");
      break;
    case LayerKind::kFullyConnected:
      break;
    default:
      throw CoremlError("preprocessing: the image scaler can only be folded into a first convolution or innerProduct");
  }
  const std::size_t outs = static_cast<std::size_t>(l.out.c), per = l.weights.size() / outs;
  const bool depthwise = l.kind == LayerKind::kDepthwiseConv2D;
  for (std::size_t o = 0; o < outs; ++o) {
    double shift = 0;
    for (std::size_t i = 0; i < per; ++i) {
      // The input channel this weight reads: innermost in OHWI and in the flattened HWC vector.
      const std::size_t wi = depthwise ? i * outs + o : o * per + i;
      const std::size_t ch = depthwise ? o : i % static_cast<std::size_t>(c);
      shift += static_cast<double>(l.weights[wi]) * bias[ch];
      l.weights[wi] *= k;
    }
    l.bias[o] += static_cast<float>(shift);
  }
}

}  // namespace

CoremlModel read_coreml(std::span<const std::uint8_t> bytes) {
  cm::Model m;
  if (bytes.empty()) throw CoremlError("empty file: not a Core ML model");
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw CoremlError("not a Core ML model: the protobuf does not parse (truncated or corrupt file)");

  const google::protobuf::RepeatedPtrField<cm::NeuralNetworkLayer>* layers = nullptr;
  const google::protobuf::RepeatedPtrField<cm::NeuralNetworkPreprocessing>* preprocessing = nullptr;
  CoremlModel out;
  if (m.has_neuralnetworkclassifier()) {
    const auto& c = m.neuralnetworkclassifier();
    layers = &c.layers();
    preprocessing = &c.preprocessing();
    if (c.has_stringclasslabels())
      out.labels.assign(c.stringclasslabels().vector().begin(), c.stringclasslabels().vector().end());
    if (c.has_int64classlabels())
      for (std::int64_t v : c.int64classlabels().vector()) out.labels.push_back(std::to_string(v));
  } else if (m.has_neuralnetwork()) {
    layers = &m.neuralnetwork().layers();
    preprocessing = &m.neuralnetwork().preprocessing();
  } else {
    const std::string kind = oneof_member(m, "Type");
    throw CoremlError("model kind " + (kind.empty() ? std::string("(not set or unknown)") : "'" + kind + "'") +
                      " is not supported: only neuralNetwork and neuralNetworkClassifier models import");
  }

  const auto& desc = m.description();
  if (desc.input_size() != 1)
    throw CoremlError("description.input: " + std::to_string(desc.input_size()) +
                      " inputs; the node feeds exactly one");
  const cm::FeatureDescription& in = desc.input(0);
  out.input_name = in.name();
  const std::string where = "input '" + in.name() + "'";
  Shape3 shape;
  if (in.type().has_imagetype()) {
    const auto& im = in.type().imagetype();
    if (im.colorspace() != cm::ImageFeatureType::GRAYSCALE && im.colorspace() != cm::ImageFeatureType::RGB)
      throw CoremlError(where + ": image colorSpace " + cm::ImageFeatureType::ColorSpace_Name(im.colorspace()) +
                        " is not supported (GRAYSCALE, RGB)");
    if (im.width() < 1 || im.height() < 1 || im.width() > kMaxDim || im.height() > kMaxDim)
      throw CoremlError(where + ": image size " + std::to_string(im.width()) + "x" + std::to_string(im.height()) +
                        " out of range");
    shape = {static_cast<int>(im.height()), static_cast<int>(im.width()),
             im.colorspace() == cm::ImageFeatureType::RGB ? 3 : 1};
    out.image_input = true;
  } else if (in.type().has_multiarraytype()) {
    const auto& a = in.type().multiarraytype();
    if (a.datatype() != cm::ArrayFeatureType::FLOAT32 && a.datatype() != cm::ArrayFeatureType::DOUBLE)
      throw CoremlError(where + ": multiArray dataType " + cm::ArrayFeatureType::ArrayDataType_Name(a.datatype()) +
                        " is not supported (FLOAT32, DOUBLE)");
    for (std::int64_t d : a.shape())
      if (d < 1 || d > kMaxDim) throw CoremlError(where + ": multiArray shape holds " + std::to_string(d));
    if (a.shape_size() == 1)
      shape = {1, 1, static_cast<int>(a.shape(0))};
    else if (a.shape_size() == 3)
      shape = {static_cast<int>(a.shape(1)), static_cast<int>(a.shape(2)), static_cast<int>(a.shape(0))};
    else
      throw CoremlError(where + ": multiArray of rank " + std::to_string(a.shape_size()) +
                        " is not supported ([C] or [C,H,W])");
  } else {
    const std::string kind = oneof_member(in.type(), "Type");
    throw CoremlError(where + ": feature type " + (kind.empty() ? std::string("(not set)") : kind) +
                      " is not supported (image or multiArray)");
  }
  if (static_cast<std::int64_t>(shape.size()) > kMaxElements) throw CoremlError(where + ": too large");
  out.input_description = shape_text(shape) + (out.image_input ? " image" : " array") + " '" + in.name() + "'";

  float scale = 1.0f;
  std::vector<float> bias(static_cast<std::size_t>(shape.c), 0.0f);
  for (const auto& p : *preprocessing) {
    if (!p.featurename().empty() && p.featurename() != in.name())
      throw CoremlError("preprocessing for '" + p.featurename() + "', which is not the model's input");
    if (p.has_meanimage()) throw CoremlError(where + ": preprocessing meanImage is not supported (scaler is)");
    if (!p.has_scaler()) continue;
    if (!out.image_input) throw CoremlError(where + ": an image scaler on a multiArray input");
    const auto& s = p.scaler();
    if (s.channelscale() == 0.0f || !std::isfinite(s.channelscale()))
      throw CoremlError(where + ": preprocessing channelScale is " + std::to_string(s.channelscale()));
    scale = s.channelscale();
    if (shape.c == 1)
      bias[0] = s.graybias();
    else
      bias = {s.redbias(), s.greenbias(), s.bluebias()};
  }

  out.net.arch = "coreml";
  ChainBuilder chain(out.net, in.name(), shape);
  if (layers->empty()) throw CoremlError("the network has no layers");
  for (int i = 0; i < layers->size(); ++i) chain.add((*layers)[i], static_cast<std::size_t>(i));
  if (out.net.layers.empty()) throw CoremlError("the network has no weighted or pooling layer");
  if (out.image_input) fold_image_scaler(out.net, scale, bias);
  try {
    validate(out.net);
  } catch (const std::runtime_error& e) {
    throw CoremlError(e.what());
  }
  const Shape3 o = out.net.output();
  if (!out.labels.empty() && static_cast<int>(out.labels.size()) != o.size())
    throw CoremlError("classLabels: " + std::to_string(out.labels.size()) + " labels for " + std::to_string(o.size()) +
                      " outputs");
  return out;
}

std::vector<std::vector<float>> read_calibration(const std::string& path, const CoremlModel& model, std::size_t limit) {
  const Shape3 in = model.net.input;
  std::vector<std::vector<float>> out;
  auto add = [&](std::span<const std::uint8_t> pixels) {
    std::vector<float> x(pixels.size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(pixels[i]) / 255.0f;
    out.push_back(std::move(x));
  };
  try {
    const std::filesystem::path p(path);
    if (std::filesystem::is_directory(p) && is_image_folder(p)) {
      if (in.h == 1 && in.w == 1 && !model.image_input)
        throw CoremlError("images cannot calibrate a vector input of " + std::to_string(in.c) + " values");
      const auto set = read_image_folder(
          p, {static_cast<std::uint32_t>(in.w), static_cast<std::uint32_t>(in.h), static_cast<std::uint32_t>(in.c)}, 0,
          2);
      for (std::size_t i = 0; i < set.files.size() && out.size() < limit; ++i) add(set.image(i));
    } else {
      // Fashion-MNIST's IDX files hold 28x28 grayscale images: refuse another input before reading 47 MB.
      if (in.size() != 28 * 28 || in.c != 1)
        throw CoremlError("Fashion-MNIST images are 28x28x1; the model's input is " + shape_text(in));
      const ImageSet set = load_fashion_mnist(resolve_fashion_mnist(path), true).head(limit);
      for (std::size_t i = 0; i < set.count(); ++i) add(set.image(i));
    }
  } catch (const CoremlError& e) {
    throw CoremlError("--calibration " + path + ": " + e.what());
  } catch (const std::exception& e) {
    throw CoremlError("--calibration " + path + ": " + e.what());
  }
  if (out.empty()) throw CoremlError("--calibration " + path + ": no images");
  return out;
}

ImportAccuracy compare_float_int8(const CoremlModel& model, std::span<const std::uint8_t> tem, const std::string& path,
                                  std::size_t limit) {
  const Shape3 in = model.net.input;
  std::vector<std::span<const std::uint8_t>> images;
  std::vector<int> labels;
  ImageSet fashion;
  ImageFolderSet folder;
  const std::filesystem::path p(path);
  if (std::filesystem::is_directory(p) && is_image_folder(p)) {
    if (model.labels.empty() || (in.h == 1 && in.w == 1)) return {};
    folder = read_image_folder_for_labels(
        p, {static_cast<std::uint32_t>(in.w), static_cast<std::uint32_t>(in.h), static_cast<std::uint32_t>(in.c)},
        model.labels, 20, 2);
    for (std::size_t i = 0; i < folder.files.size() && images.size() < limit; ++i)
      if (folder.test[i]) images.push_back(folder.image(i)), labels.push_back(folder.label[i]);
  } else {
    if (model.net.output().size() != 10 || in.size() != 28 * 28) return {};
    fashion = load_fashion_mnist(resolve_fashion_mnist(path), false).head(limit);
    for (std::size_t i = 0; i < fashion.count(); ++i)
      images.push_back(fashion.image(i)), labels.push_back(fashion.labels[i]);
  }
  TemRunner runner(tem);
  const auto info = runner.model().input_info();
  ImportAccuracy a;
  std::size_t float_right = 0, int8_right = 0;
  std::vector<float> x;
  for (std::size_t i = 0; i < images.size(); ++i) {
    x.resize(images[i].size());
    for (std::size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(images[i][k]) / 255.0f;
    const auto f = forward(model.net, x);
    float_right += std::max_element(f.begin(), f.end()) - f.begin() == labels[i];
    const auto q = runner.run(quantize_image(info, images[i]));
    int8_right += std::max_element(q.begin(), q.end()) - q.begin() == labels[i];
  }
  a.images = images.size();
  if (a.images) {
    a.float_percent = 100.0 * static_cast<double>(float_right) / static_cast<double>(a.images);
    a.int8_percent = 100.0 * static_cast<double>(int8_right) / static_cast<double>(a.images);
  }
  return a;
}

model::Graph coreml_to_int8_graph(const CoremlModel& model, std::span<const std::vector<float>> calibration) {
  // An image input keeps the node camera's quantisation (q = pixel - 128), as trained models do.
  std::optional<QuantParams> input;
  if (model.image_input) input = QuantParams{1.0f / 255.0f, -128};
  return to_graph(quantize(model.net, calibration, input));
}

}  // namespace tinyedge::train
