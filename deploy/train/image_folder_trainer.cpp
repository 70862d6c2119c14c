#include "deploy/train/image_folder_trainer.h"

#include <torch/torch.h>

#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

#include "deploy/train/torch_schedule.h"

namespace tinyedge::train {
namespace {

std::vector<float> to_vector(const torch::Tensor& t) {
  auto c = t.detach().contiguous().to(torch::kFloat32);
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// TFLite's SAME padding (the extra row/column goes bottom/right), explicit so torch and the runtime agree.
torch::Tensor pad_same(const torch::Tensor& x, int kh, int kw, int sh, int sw) {
  auto total = [&](std::int64_t in, int kernel, int stride) {
    const auto out = (in + stride - 1) / stride;
    return std::max<std::int64_t>((out - 1) * stride + kernel - in, 0);
  };
  const auto th = total(x.size(2), kh, sh), tw = total(x.size(3), kw, sw);
  return torch::constant_pad_nd(x, {tw / 2, tw - tw / 2, th / 2, th - th / 2});
}

// A bias-free conv + batch norm as one conv with the norm folded in (weights into `l`, whose
// geometry comes from the skeleton): w' = w * gamma / sqrt(var + eps), b' = beta - mean * that.
void fold_into(Layer& l, const torch::nn::Conv2d& conv, const torch::nn::BatchNorm2d& bn) {
  const auto inv_std = (bn->running_var + bn->options.eps()).rsqrt() * bn->weight;
  auto w = conv->weight.detach() * inv_std.view({-1, 1, 1, 1});
  // Conv OIHW -> OHWI; depthwise [C,1,KH,KW] -> [KH][KW][C].
  l.weights = to_vector(l.kind == LayerKind::kDepthwiseConv2D ? w.permute({2, 3, 1, 0}) : w.permute({0, 2, 3, 1}));
  l.bias = to_vector(bn->bias.detach() - bn->running_mean * inv_std);
}

struct ConvBn {
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  int kh = 3, kw = 3, sh = 1, sw = 1;
};

struct ImageNetImpl : torch::nn::Module {
  ImageNetSpec spec;
  FloatNet skeleton;
  std::vector<ConvBn> convs;  // in skeleton order (every conv/depthwise layer)
  torch::nn::Linear fc{nullptr};

  ImageNetImpl(const ImageNetSpec& s, Shape3 input, int classes)
      : spec(s), skeleton(image_net_skeleton(s, input, classes)) {
    for (const auto& l : skeleton.layers) {
      if (l.kind != LayerKind::kConv2D && l.kind != LayerKind::kDepthwiseConv2D) continue;
      const auto i = std::to_string(convs.size());
      ConvBn c;
      c.kh = l.kernel_h;
      c.kw = l.kernel_w;
      c.sh = l.stride_h;
      c.sw = l.stride_w;
      auto options = torch::nn::Conv2dOptions(l.in.c, l.out.c, {l.kernel_h, l.kernel_w})
                         .stride({l.stride_h, l.stride_w})
                         .bias(false);
      if (l.kind == LayerKind::kDepthwiseConv2D) options.groups(l.in.c);
      c.conv = register_module("conv" + i, torch::nn::Conv2d(options));
      c.bn = register_module("bn" + i, torch::nn::BatchNorm2d(l.out.c));
      convs.push_back(c);
    }
    const Layer& head = skeleton.layers[skeleton.layers.size() - 2];
    fc = register_module("fc", torch::nn::Linear(head.in.c, head.out.c));
  }

  torch::Tensor forward(torch::Tensor x) {
    std::size_t next = 0;
    for (const auto& l : skeleton.layers) {
      if (l.kind == LayerKind::kConv2D || l.kind == LayerKind::kDepthwiseConv2D) {
        auto& c = convs[next++];
        x = torch::relu(c.bn(c.conv(pad_same(x, c.kh, c.kw, c.sh, c.sw))));
      } else if (l.kind == LayerKind::kMaxPool2D) {
        const std::vector<std::int64_t> k{l.kernel_h, l.kernel_w};
        x = torch::max_pool2d(x, k, k, 0, 1, /*ceil_mode=*/true);  // SAME for 2x2/2 (and 2x1/2x1)
      } else if (l.kind == LayerKind::kAveragePool2D) {
        x = torch::dropout(x.mean({2, 3}), 0.1, is_training());
      }
    }
    return fc(x);
  }

  FloatNet export_net() {
    FloatNet net = skeleton;
    std::size_t next = 0;
    for (auto& l : net.layers) {
      if (l.kind == LayerKind::kConv2D || l.kind == LayerKind::kDepthwiseConv2D) {
        fold_into(l, convs[next].conv, convs[next].bn);
        ++next;
      } else if (l.kind == LayerKind::kFullyConnected) {
        l.weights = to_vector(fc->weight);
        l.bias = to_vector(fc->bias);
      }
    }
    validate(net);
    return net;
  }
};
TORCH_MODULE(ImageNet);

// Flips, shifts and brightness on a batch [n, c, h, w] of values in [0, 1], per image.
// One-D windows ([n, axes, T, 1]) shift along time only.
torch::Tensor augment_batch(const torch::Tensor& x, const ImageAugment& a, int shift, bool one_d,
                            std::mt19937_64& rng) {
  const auto n = x.size(0), h = x.size(2), w = x.size(3);
  const int shift_w = one_d ? 0 : shift;
  auto padded = shift > 0 ? torch::constant_pad_nd(x, {shift_w, shift_w, shift, shift}) : x;
  std::vector<torch::Tensor> out;
  out.reserve(static_cast<std::size_t>(n));
  std::uniform_real_distribution<float> gain(1.0f - a.brightness, 1.0f + a.brightness);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto dy = shift > 0 ? static_cast<std::int64_t>(rng() % (2 * shift + 1)) : 0;
    const auto dx = shift_w > 0 ? static_cast<std::int64_t>(rng() % (2 * shift_w + 1)) : 0;
    auto img = padded[i].narrow(1, dy, h).narrow(2, dx, w);
    if (a.flip && (rng() & 1)) img = img.flip({2});
    if (a.brightness > 0) {
      img = img * gain(rng);
      if (a.clamp) img = img.clamp(0.0f, 1.0f);
    }
    out.push_back(img);
  }
  return torch::stack(out);
}

}  // namespace

FloatNet train_image_folder_net(std::span<const float> images, Shape3 input, std::span<const int> labels, int classes,
                                const ImageNetSpec& spec, const ImageAugment& augment, const TrainOptions& o,
                                const ProgressFn& progress) {
  const auto per = static_cast<std::size_t>(input.size());
  if (per == 0 || labels.empty() || images.size() != per * labels.size())
    throw std::runtime_error("image training data: " + std::to_string(images.size()) + " values for " +
                             std::to_string(labels.size()) + " images of " + std::to_string(per));
  torch::manual_seed(o.seed);
  torch::set_num_threads(o.threads);
  at::globalContext().setDeterministicAlgorithms(true, false);

  const auto n = static_cast<std::int64_t>(labels.size());
  const auto x = torch::from_blob(const_cast<float*>(images.data()), {n, input.h, input.w, input.c}, torch::kFloat32)
                     .permute({0, 3, 1, 2})
                     .contiguous();
  const auto y = torch::from_blob(const_cast<int*>(labels.data()), {n}, torch::kInt32).to(torch::kLong);
  const int shift = augment.shift >= 0 ? augment.shift : std::min(input.h, input.w) / 8;

  ImageNet net(spec, input, classes);
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(o.learning_rate).weight_decay(1e-4));
  std::mt19937_64 rng(o.seed);
  const std::int64_t batches = (n + o.batch_size - 1) / o.batch_size, total = batches * o.epochs;
  std::int64_t step = 0;
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    net->train();
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng() % (i + 1)]);
    const auto order_t = torch::from_blob(order.data(), {n}, torch::kLong);
    double loss_sum = 0;
    std::int64_t correct = 0, seen = 0;
    for (std::int64_t b = 0; b < batches; ++b) {
      const auto lo = b * o.batch_size, hi = std::min(n, lo + o.batch_size);
      const auto idx = order_t.slice(0, lo, hi);
      const auto xb = augment_batch(x.index_select(0, idx), augment, shift, spec.one_d, rng);
      const auto yb = y.index_select(0, idx);
      set_lr(opt, cosine_lr(o.learning_rate, step++, total));
      opt.zero_grad();
      const auto logits = net->forward(xb);
      auto loss = torch::nn::functional::cross_entropy(logits, yb);
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>() * static_cast<double>(hi - lo);
      correct += logits.argmax(1).eq(yb).sum().item<std::int64_t>();
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

}  // namespace tinyedge::train
