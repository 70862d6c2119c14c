#include "deploy/train/torch_trainer.h"

#include <torch/torch.h>

#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

#include "deploy/train/torch_schedule.h"

namespace tinyedge::train {
namespace {

void make_reproducible(const TrainOptions& o) {
  torch::manual_seed(o.seed);
  torch::set_num_threads(o.threads);
  at::globalContext().setDeterministicAlgorithms(true, false);
}

// Fisher-Yates with an explicit engine, so the order does not depend on the library's shuffle.
std::vector<std::int64_t> shuffled(std::size_t n, std::mt19937_64& rng) {
  std::vector<std::int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  for (std::size_t i = n - 1; i > 0; --i) std::swap(idx[i], idx[rng() % (i + 1)]);
  return idx;
}

std::vector<float> to_vector(const torch::Tensor& t) {
  auto c = t.detach().contiguous().to(torch::kFloat32);
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// TFLite's SAME padding (the extra pixel goes bottom/right), applied explicitly so torch and the
// runtime agree for even sizes and strides > 1.
torch::Tensor pad_same(const torch::Tensor& x, int kernel, int stride) {
  const auto in = x.size(2);
  const auto out = (in + stride - 1) / stride;
  const auto total = std::max<std::int64_t>((out - 1) * stride + kernel - in, 0);
  return torch::constant_pad_nd(x, {total / 2, total - total / 2, total / 2, total - total / 2});
}

// A conv layer in the runtime's layout: weights OIHW -> OHWI.
Layer conv_layer(const torch::nn::Conv2d& conv, Shape3 in, int stride, bool relu) {
  auto w = conv->weight.detach();
  Layer l;
  l.kind = LayerKind::kConv2D;
  l.in = in;
  l.kernel_h = static_cast<int>(w.size(2));
  l.kernel_w = static_cast<int>(w.size(3));
  l.stride_h = l.stride_w = stride;
  l.padding = Padding::kSame;
  l.out = {conv_out_size(in.h, l.kernel_h, stride, Padding::kSame),
           conv_out_size(in.w, l.kernel_w, stride, Padding::kSame), static_cast<int>(w.size(0))};
  l.relu = relu;
  l.weights = to_vector(w.permute({0, 2, 3, 1}));
  l.bias = to_vector(conv->bias);
  return l;
}

Layer max_pool2(Shape3 in) {
  Layer l;
  l.kind = LayerKind::kMaxPool2D;
  l.in = in;
  l.kernel_h = l.kernel_w = l.stride_h = l.stride_w = 2;
  l.padding = Padding::kValid;
  l.out = {in.h / 2, in.w / 2, in.c};
  return l;
}

// A linear layer; `chw` (if set) is the torch flatten order of its input, reordered to NHWC.
Layer dense(const torch::nn::Linear& fc, Shape3 in, bool relu, bool from_chw) {
  auto w = fc->weight.detach();
  if (from_chw) w = w.view({w.size(0), in.c, in.h, in.w}).permute({0, 2, 3, 1}).reshape({w.size(0), -1});
  Layer l;
  l.kind = LayerKind::kFullyConnected;
  l.in = in;
  l.out = {1, 1, static_cast<int>(w.size(0))};
  l.relu = relu;
  l.weights = to_vector(w);
  l.bias = to_vector(fc->bias);
  return l;
}

Layer softmax_layer(Shape3 in) {
  Layer l;
  l.kind = LayerKind::kSoftmax;
  l.in = l.out = in;
  return l;
}

struct SmallCnnImpl : torch::nn::Module {
  // 28x28x1 -> conv5x5/2(16) -> conv3x3(32) -> maxpool2 -> 7x7x32 -> dense(10): ~21 K int8 weights.
  // Downsampling in the first conv keeps every activation at <= 14x14 (a ~10 KB arena) and keeps
  // training cheap: full-resolution elementwise ops dominate a CPU step.
  static constexpr int kC1 = 16, kC2 = 32;
  torch::nn::Conv2d conv1{torch::nn::Conv2dOptions(1, kC1, 5).stride(2)};
  torch::nn::Conv2d conv2{torch::nn::Conv2dOptions(kC1, kC2, 3)};
  torch::nn::Linear fc{7 * 7 * kC2, 10};
  SmallCnnImpl() {
    register_module("conv1", conv1);
    register_module("conv2", conv2);
    register_module("fc", fc);
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv1(pad_same(x, 5, 2)));
    x = torch::max_pool2d(torch::relu(conv2(pad_same(x, 3, 1))), 2);
    return fc(x.flatten(1));
  }
  FloatNet export_net() {
    FloatNet net;
    net.arch = "small-cnn";
    net.input = {28, 28, 1};
    net.layers.push_back(conv_layer(conv1, {28, 28, 1}, 2, true));
    net.layers.push_back(conv_layer(conv2, {14, 14, kC1}, 1, true));
    net.layers.push_back(max_pool2({14, 14, kC2}));
    net.layers.push_back(dense(fc, {7, 7, kC2}, false, true));
    net.layers.push_back(softmax_layer({1, 1, 10}));
    return net;
  }
};
TORCH_MODULE(SmallCnn);

// The small CNN's trunk with a linear embedding layer, trained through a cosine classifier
// (logits = s * cos(embedding, class weight)): the training objective is the very geometry the
// node classifies by (nearest prototype by cosine), so classes it never saw also form tight
// directions. Only the trunk and the embedding layer are exported.
struct EmbedCnnImpl : torch::nn::Module {
  static constexpr int kC1 = 16, kC2 = 32;
  static constexpr float kScale = 16.0f;  // cosine logits' temperature
  int dim;
  torch::nn::Conv2d conv1{torch::nn::Conv2dOptions(1, kC1, 5).stride(2)};
  torch::nn::Conv2d conv2{torch::nn::Conv2dOptions(kC1, kC2, 3)};
  torch::nn::Linear embed{nullptr};
  torch::Tensor class_weights;
  EmbedCnnImpl(int embedding_dim, int classes) : dim(embedding_dim) {
    register_module("conv1", conv1);
    register_module("conv2", conv2);
    embed = register_module("embed", torch::nn::Linear(7 * 7 * kC2, embedding_dim));
    class_weights = register_parameter("class_weights", torch::randn({classes, embedding_dim}) * 0.1);
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv1(pad_same(x, 5, 2)));
    x = torch::max_pool2d(torch::relu(conv2(pad_same(x, 3, 1))), 2);
    const auto e =
        torch::nn::functional::normalize(embed(x.flatten(1)), torch::nn::functional::NormalizeFuncOptions().dim(1));
    const auto w =
        torch::nn::functional::normalize(class_weights, torch::nn::functional::NormalizeFuncOptions().dim(1));
    return kScale * e.matmul(w.t());
  }
  FloatNet export_net() {
    FloatNet net;
    net.arch = "embedding-cnn";
    net.input = {28, 28, 1};
    net.layers.push_back(conv_layer(conv1, {28, 28, 1}, 2, true));
    net.layers.push_back(conv_layer(conv2, {14, 14, kC1}, 1, true));
    net.layers.push_back(max_pool2({14, 14, kC2}));
    net.layers.push_back(dense(embed, {7, 7, kC2}, false, true));
    return net;
  }
};
TORCH_MODULE(EmbedCnn);

struct MlpImpl : torch::nn::Module {
  // 784 -> 64 -> 32 -> 10: ~52 K int8 weights.
  torch::nn::Linear fc1{784, 64}, fc2{64, 32}, fc3{32, 10};
  MlpImpl() {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    register_module("fc3", fc3);
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(fc1(x.flatten(1)));
    x = torch::relu(fc2(x));
    return fc3(x);
  }
  FloatNet export_net() {
    FloatNet net;
    net.arch = "mlp";
    net.input = {28, 28, 1};
    net.layers.push_back(dense(fc1, {28, 28, 1}, true, false));
    net.layers.push_back(dense(fc2, {1, 1, 64}, true, false));
    net.layers.push_back(dense(fc3, {1, 1, 32}, false, false));
    net.layers.push_back(softmax_layer({1, 1, 10}));
    return net;
  }
};
TORCH_MODULE(Mlp);

// Cross-entropy training of `net` on inputs [n, 1, h, w] and class labels [n] (AdamW, cosine
// decay, seeded shuffling); `augment(x, rng)` may change a batch in place before each step.
template <typename Net, typename Augment>
FloatNet fit_classifier(Net net, const torch::Tensor& images, const torch::Tensor& labels, const TrainOptions& o,
                        const ProgressFn& progress, Augment augment) {
  const auto n = images.size(0);
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(o.learning_rate).weight_decay(1e-4));
  std::mt19937_64 rng(o.seed);
  const std::int64_t batches = (n + o.batch_size - 1) / o.batch_size;
  const std::int64_t total_steps = batches * o.epochs;
  std::int64_t step = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    net->train();
    auto order = shuffled(static_cast<std::size_t>(n), rng);
    auto order_t = torch::from_blob(order.data(), {n}, torch::kLong);
    double loss_sum = 0;
    std::int64_t correct = 0, seen = 0;
    for (std::int64_t b = 0; b < batches; ++b) {
      const auto lo = b * o.batch_size, hi = std::min(n, lo + o.batch_size);
      auto idx = order_t.slice(0, lo, hi);
      auto x = images.index_select(0, idx);
      auto y = labels.index_select(0, idx);
      augment(x, rng);
      set_lr(opt, cosine_lr(o.learning_rate, step++, total_steps));
      opt.zero_grad();
      torch::Tensor logits = net->forward(x);
      torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>() * static_cast<double>(hi - lo);
      correct += logits.argmax(1).eq(y).sum().item<std::int64_t>();
      seen += hi - lo;
      if (progress)
        progress(epoch, static_cast<int>(b + 1), static_cast<int>(batches), loss_sum / static_cast<double>(seen),
                 static_cast<double>(correct) / static_cast<double>(seen));
    }
  }
  net->eval();
  torch::NoGradGuard no_grad;
  return net->export_net();
}

// Image batches: left-right mirroring (garments look the same mirrored, and it costs nothing).
void mirror_some(torch::Tensor& x, std::mt19937_64& rng) {
  std::vector<std::int64_t> mirror;
  for (std::int64_t i = 0; i < x.size(0); ++i)
    if (rng() & 1) mirror.push_back(i);
  if (!mirror.empty()) {
    auto m = torch::from_blob(mirror.data(), {static_cast<std::int64_t>(mirror.size())}, torch::kLong).clone();
    x.index_copy_(0, m, x.index_select(0, m).flip({3}));
  }
}

// TFLite's SAME padding for any kernel and stride per axis (the extra row/column goes last).
torch::Tensor pad_same_2d(const torch::Tensor& x, int kh, int kw, int sh, int sw) {
  auto total = [](std::int64_t in, int k, int s) {
    const auto out = (in + s - 1) / s;
    return std::max<std::int64_t>((out - 1) * s + k - in, 0);
  };
  const auto th = total(x.size(2), kh, sh), tw = total(x.size(3), kw, sw);
  return torch::constant_pad_nd(x, {tw / 2, tw - tw / 2, th / 2, th - th / 2});
}

// A bias-free conv followed by batch norm, exported as one conv with the norm folded in:
// w' = w * gamma / sqrt(var + eps), b' = beta - mean * gamma / sqrt(var + eps).
Layer folded_conv(const torch::nn::Conv2d& conv, const torch::nn::BatchNorm2d& bn, LayerKind kind, Shape3 in,
                  int stride_h, int stride_w) {
  const auto inv_std = (bn->running_var + bn->options.eps()).rsqrt() * bn->weight;
  auto w = conv->weight.detach() * inv_std.view({-1, 1, 1, 1});
  Layer l;
  l.kind = kind;
  l.in = in;
  l.kernel_h = static_cast<int>(w.size(2));
  l.kernel_w = static_cast<int>(w.size(3));
  l.stride_h = stride_h;
  l.stride_w = stride_w;
  l.padding = Padding::kSame;
  l.relu = true;
  const int out_c = static_cast<int>(w.size(0));
  l.out = {conv_out_size(in.h, l.kernel_h, stride_h, Padding::kSame),
           conv_out_size(in.w, l.kernel_w, stride_w, Padding::kSame), out_c};
  // Conv OIHW -> OHWI; depthwise [C,1,KH,KW] -> [KH][KW][C].
  l.weights = to_vector(kind == LayerKind::kDepthwiseConv2D ? w.permute({2, 3, 1, 0}) : w.permute({0, 2, 3, 1}));
  l.bias = to_vector(bn->bias.detach() - bn->running_mean * inv_std);
  return l;
}

// DS-CNN (Zhang et al., "Hello Edge"; the MLPerf Tiny kws reference): a strided conv over
// (time, feature), then depthwise-separable blocks (3x3 depthwise + 1x1 pointwise, each with batch
// norm and ReLU), global average pooling and one dense layer. At 64 channels on 49x10 MFCC its
// largest activation is 25x5x64 = 8,000 int8 values.
struct DsCnnImpl : torch::nn::Module {
  Shape3 input;
  int channels, classes, stride_w, kernel_w;
  torch::nn::Conv2d conv0{nullptr};
  torch::nn::BatchNorm2d bn0{nullptr};
  std::vector<torch::nn::Conv2d> dw, pw;
  std::vector<torch::nn::BatchNorm2d> dw_bn, pw_bn;
  torch::nn::Linear fc{nullptr};

  // embedding_dim > 0: the last layer is a linear embedding of that size, trained through a
  // cosine classifier over the classes (as EmbedCnn), and the export ends at the embedding.
  int embedding_dim = 0;
  torch::Tensor class_weights;

  DsCnnImpl(Shape3 in, const KeywordNetOptions& shape, int n_classes, int embedding = 0)
      : input(in), channels(shape.channels), classes(n_classes), embedding_dim(embedding) {
    // Wide log-mel rows get a wider stride along the features, so the first activation stays as
    // small as on MFCC rows (a 10-wide input: kernel 10x4, stride 2x2, as the reference).
    stride_w = in.w >= 20 ? 4 : (in.w >= 2 ? 2 : 1);
    kernel_w = std::min(2 * stride_w, in.w);
    conv0 = register_module(
        "conv0",
        torch::nn::Conv2d(
            torch::nn::Conv2dOptions(1, channels, {std::min(10, in.h), kernel_w}).stride({2, stride_w}).bias(false)));
    bn0 = register_module("bn0", torch::nn::BatchNorm2d(channels));
    for (int b = 0; b < shape.blocks; ++b) {
      const auto s = std::to_string(b);
      dw.push_back(register_module(
          "dw" + s, torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 3).groups(channels).bias(false))));
      dw_bn.push_back(register_module("dw_bn" + s, torch::nn::BatchNorm2d(channels)));
      pw.push_back(
          register_module("pw" + s, torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 1).bias(false))));
      pw_bn.push_back(register_module("pw_bn" + s, torch::nn::BatchNorm2d(channels)));
    }
    fc = register_module("fc", torch::nn::Linear(channels, embedding_dim > 0 ? embedding_dim : classes));
    if (embedding_dim > 0)
      class_weights = register_parameter("class_weights", torch::randn({classes, embedding_dim}) * 0.1);
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(bn0(conv0(pad_same_2d(x, static_cast<int>(conv0->weight.size(2)), kernel_w, 2, stride_w))));
    for (std::size_t b = 0; b < dw.size(); ++b) {
      x = torch::relu(dw_bn[b](dw[b](pad_same_2d(x, 3, 3, 1, 1))));
      x = torch::relu(pw_bn[b](pw[b](x)));
    }
    x = torch::dropout(x, 0.2, is_training());
    x = fc(x.mean({2, 3}));
    if (embedding_dim == 0) return x;
    namespace F = torch::nn::functional;
    const auto e = F::normalize(x, F::NormalizeFuncOptions().dim(1));
    const auto w = F::normalize(class_weights, F::NormalizeFuncOptions().dim(1));
    return EmbedCnnImpl::kScale * e.matmul(w.t());
  }
  FloatNet export_net() {
    FloatNet net;
    net.arch = "ds-cnn";
    net.input = input;
    net.layers.push_back(folded_conv(conv0, bn0, LayerKind::kConv2D, input, 2, stride_w));
    for (std::size_t b = 0; b < dw.size(); ++b) {
      net.layers.push_back(folded_conv(dw[b], dw_bn[b], LayerKind::kDepthwiseConv2D, net.output(), 1, 1));
      net.layers.push_back(folded_conv(pw[b], pw_bn[b], LayerKind::kConv2D, net.output(), 1, 1));
    }
    const Shape3 last = net.output();
    Layer pool;
    pool.kind = LayerKind::kAveragePool2D;
    pool.in = last;
    pool.kernel_h = pool.stride_h = last.h;
    pool.kernel_w = pool.stride_w = last.w;
    pool.padding = Padding::kValid;
    pool.out = {1, 1, last.c};
    net.layers.push_back(pool);
    net.layers.push_back(dense(fc, {1, 1, channels}, false, false));
    if (embedding_dim > 0) {
      net.arch = "ds-cnn-embedding";
      return net;
    }
    net.layers.push_back(softmax_layer({1, 1, classes}));
    return net;
  }
};
TORCH_MODULE(DsCnn);

struct AutoencoderImpl : torch::nn::Module {
  // The MLPerf Tiny ad01 shape (dense + ReLU down to a narrow code and back), smaller.
  std::vector<torch::nn::Linear> layers;
  AutoencoderImpl(int dim) {
    const int widths[] = {dim, 64, 32, 8, 32, 64, dim};
    for (int i = 0; i + 1 < 7; ++i)
      layers.push_back(register_module("fc" + std::to_string(i), torch::nn::Linear(widths[i], widths[i + 1])));
  }
  torch::Tensor forward(torch::Tensor x) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      x = layers[i](x);
      if (i + 1 < layers.size()) x = torch::relu(x);
    }
    return x;
  }
  FloatNet export_net(int dim) {
    FloatNet net;
    net.arch = "autoencoder";
    net.input = {1, 1, dim};
    Shape3 in = net.input;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      net.layers.push_back(dense(layers[i], in, i + 1 < layers.size(), false));
      in = net.layers.back().out;
    }
    return net;
  }
};
TORCH_MODULE(Autoencoder);

}  // namespace

FloatNet train_image_classifier(const ImageSet& train, const std::string& arch, const TrainOptions& options,
                                const ProgressFn& progress) {
  if (train.rows != 28 || train.cols != 28) throw std::runtime_error("image classifiers take 28x28 images");
  if (train.count() == 0) throw std::runtime_error("no training images");
  make_reproducible(options);
  const auto n = static_cast<std::int64_t>(train.count());
  const auto images =
      torch::from_blob(const_cast<std::uint8_t*>(train.pixels.data()), {n, 1, train.rows, train.cols}, torch::kUInt8)
          .to(torch::kFloat32)
          .div_(255.0f);
  const auto labels =
      torch::from_blob(const_cast<std::uint8_t*>(train.labels.data()), {n}, torch::kUInt8).to(torch::kLong);
  if (arch == "small-cnn") return fit_classifier(SmallCnn(), images, labels, options, progress, mirror_some);
  if (arch == "mlp") return fit_classifier(Mlp(), images, labels, options, progress, mirror_some);
  throw std::runtime_error("unknown arch '" + arch + "' (small-cnn, mlp)");
}

FloatNet train_image_embedding(const ImageSet& train, int classes, int dim, const TrainOptions& options,
                               const ProgressFn& progress) {
  if (train.rows != 28 || train.cols != 28) throw std::runtime_error("image embeddings take 28x28 images");
  if (train.count() == 0) throw std::runtime_error("no training images");
  if (classes < 2 || dim < 2) throw std::runtime_error("an embedding needs at least 2 classes and 2 dimensions");
  make_reproducible(options);
  const auto n = static_cast<std::int64_t>(train.count());
  const auto images =
      torch::from_blob(const_cast<std::uint8_t*>(train.pixels.data()), {n, 1, train.rows, train.cols}, torch::kUInt8)
          .to(torch::kFloat32)
          .div_(255.0f);
  const auto labels =
      torch::from_blob(const_cast<std::uint8_t*>(train.labels.data()), {n}, torch::kUInt8).to(torch::kLong);
  return fit_classifier(EmbedCnn(dim, classes), images, labels, options, progress, mirror_some);
}

FloatNet train_keyword_classifier(std::span<const float> features, Shape3 input, std::span<const int> labels,
                                  int classes, const KeywordNetOptions& shape, const TrainOptions& options,
                                  const ProgressFn& progress, int embedding_dim) {
  const auto per = static_cast<std::size_t>(input.size());
  if (input.c != 1 || per == 0 || labels.empty() || features.size() != per * labels.size())
    throw std::runtime_error("keyword training data: " + std::to_string(features.size()) + " feature values for " +
                             std::to_string(labels.size()) + " clips of " + std::to_string(per));
  if (shape.channels < 1 || shape.blocks < 0) throw std::runtime_error("keyword net: channels >= 1, blocks >= 0");
  make_reproducible(options);
  const auto n = static_cast<std::int64_t>(labels.size());
  const auto x =
      torch::from_blob(const_cast<float*>(features.data()), {n, 1, input.h, input.w}, torch::kFloat32).clone();
  const auto y = torch::from_blob(const_cast<int*>(labels.data()), {n}, torch::kInt32).to(torch::kLong);
  return fit_classifier(DsCnn(input, shape, classes, embedding_dim), x, y, options, progress,
                        [](torch::Tensor&, std::mt19937_64&) {});
}

FloatNet train_autoencoder(std::span<const float> rows, int dim, const TrainOptions& o, const ProgressFn& progress) {
  if (dim <= 0 || rows.empty() || rows.size() % static_cast<std::size_t>(dim) != 0)
    throw std::runtime_error("autoencoder training data is empty or not a whole number of rows");
  make_reproducible(o);
  Autoencoder net(dim);
  const auto n = static_cast<std::int64_t>(rows.size() / static_cast<std::size_t>(dim));
  auto data = torch::from_blob(const_cast<float*>(rows.data()), {n, dim}, torch::kFloat32).clone();
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(o.learning_rate).weight_decay(1e-4));
  std::mt19937_64 rng(o.seed);
  const std::int64_t batches = (n + o.batch_size - 1) / o.batch_size;
  std::int64_t step = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    net->train();
    auto order = shuffled(static_cast<std::size_t>(n), rng);
    auto order_t = torch::from_blob(order.data(), {n}, torch::kLong);
    double loss_sum = 0;
    std::int64_t seen = 0;
    for (std::int64_t b = 0; b < batches; ++b) {
      const auto lo = b * o.batch_size, hi = std::min(n, lo + o.batch_size);
      auto x = data.index_select(0, order_t.slice(0, lo, hi));
      set_lr(opt, cosine_lr(o.learning_rate, step++, batches * o.epochs));
      opt.zero_grad();
      auto loss = torch::mse_loss(net->forward(x), x);
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>() * static_cast<double>(hi - lo);
      seen += hi - lo;
      if (progress)
        progress(epoch, static_cast<int>(b + 1), static_cast<int>(batches), loss_sum / static_cast<double>(seen), -1);
    }
  }
  net->eval();
  torch::NoGradGuard no_grad;
  return net->export_net(dim);
}

}  // namespace tinyedge::train
