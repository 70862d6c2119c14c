#include "deploy/train/image_arch.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <stdexcept>

#include "deploy/train/quantize.h"
#include "deploy/train/tem_export.h"

namespace tinyedge::train {
namespace {

// A square kernel, or (one_d) a kernel and stride along the height (time) only.
Layer conv(LayerKind kind, Shape3 in, int out_c, int kernel, int stride, bool one_d) {
  Layer l;
  l.kind = kind;
  l.in = in;
  l.kernel_h = kernel;
  l.kernel_w = one_d ? 1 : kernel;
  l.stride_h = stride;
  l.stride_w = one_d ? 1 : stride;
  l.padding = Padding::kSame;
  l.relu = true;
  l.out = {conv_out_size(in.h, l.kernel_h, l.stride_h, Padding::kSame),
           conv_out_size(in.w, l.kernel_w, l.stride_w, Padding::kSame), out_c};
  const std::size_t per = kind == LayerKind::kDepthwiseConv2D ? 1 : static_cast<std::size_t>(in.c);
  l.weights.assign(static_cast<std::size_t>(out_c) * l.kernel_h * l.kernel_w * per, 0.0f);
  l.bias.assign(static_cast<std::size_t>(out_c), 0.0f);
  return l;
}

}  // namespace

std::vector<ImageBlockPlan> image_net_plan(const ImageNetSpec& spec, Shape3 input) {
  if (spec.width < 1 || spec.blocks < 0) throw std::runtime_error("image net: width >= 1 and blocks >= 0");
  std::vector<ImageBlockPlan> plan;
  int h = conv_out_size(input.h, 3, 2, Padding::kSame);
  int w = spec.one_d ? 1 : conv_out_size(input.w, 3, 2, Padding::kSame);
  int c = spec.width;
  for (int b = 0; b < spec.blocks; ++b) {
    // Halve the image while it is larger than 4x4 (the cnn pools every stage while it can);
    // channels double with each halving up to 8x the stem.
    const int side = spec.one_d ? h : std::min(h, w);
    const bool halve = side > (spec.arch == "cnn" ? 1 : 4) && (spec.arch == "cnn" || b < 4);
    ImageBlockPlan p;
    p.stride = halve ? 2 : 1;
    p.in_c = c;
    p.out_c = halve ? std::min(2 * c, 8 * spec.width) : c;
    plan.push_back(p);
    if (halve) {
      h = (h + 1) / 2;
      if (!spec.one_d) w = (w + 1) / 2;
    }
    c = p.out_c;
  }
  return plan;
}

FloatNet image_net_skeleton(const ImageNetSpec& spec, Shape3 input, int classes) {
  if (spec.arch != "ds-cnn" && spec.arch != "cnn")
    throw std::runtime_error("unknown image arch '" + spec.arch + "' (ds-cnn, cnn)");
  FloatNet net;
  net.arch = spec.arch;
  net.input = input;
  if (spec.one_d && input.w != 1) throw std::runtime_error("a 1-D network takes [T, 1, axes] windows");
  net.layers.push_back(conv(LayerKind::kConv2D, input, spec.width, spec.one_d ? 5 : 3, 2, spec.one_d));
  for (const auto& p : image_net_plan(spec, input)) {
    if (spec.arch == "ds-cnn") {
      net.layers.push_back(conv(LayerKind::kDepthwiseConv2D, net.output(), p.in_c, 3, p.stride, spec.one_d));
      net.layers.push_back(conv(LayerKind::kConv2D, net.output(), p.out_c, 1, 1, spec.one_d));
    } else {
      net.layers.push_back(conv(LayerKind::kConv2D, net.output(), p.out_c, 3, 1, spec.one_d));
      if (p.stride == 2) {
        Layer pool;
        pool.kind = LayerKind::kMaxPool2D;
        pool.in = net.output();
        pool.kernel_h = pool.stride_h = 2;
        pool.kernel_w = pool.stride_w = spec.one_d ? 1 : 2;
        pool.padding = Padding::kSame;
        pool.out = {(pool.in.h + 1) / 2, spec.one_d ? pool.in.w : (pool.in.w + 1) / 2, pool.in.c};
        net.layers.push_back(pool);
      }
    }
  }
  const Shape3 last = net.output();
  Layer gap;
  gap.kind = LayerKind::kAveragePool2D;
  gap.in = last;
  gap.kernel_h = gap.stride_h = last.h;
  gap.kernel_w = gap.stride_w = last.w;
  gap.padding = Padding::kValid;
  gap.out = {1, 1, last.c};
  net.layers.push_back(gap);
  Layer fc;
  fc.kind = LayerKind::kFullyConnected;
  fc.in = gap.out;
  fc.out = {1, 1, classes};
  fc.weights.assign(static_cast<std::size_t>(classes) * last.c, 0.0f);
  fc.bias.assign(static_cast<std::size_t>(classes), 0.0f);
  net.layers.push_back(fc);
  Layer softmax;
  softmax.kind = LayerKind::kSoftmax;
  softmax.in = softmax.out = fc.out;
  net.layers.push_back(softmax);
  validate(net);
  return net;
}

std::uint64_t multiply_accumulates(const FloatNet& net) {
  std::uint64_t macs = 0;
  for (const auto& l : net.layers) {
    const auto out = static_cast<std::uint64_t>(l.out.size());
    switch (l.kind) {
      case LayerKind::kConv2D:
        macs += out * l.kernel_h * l.kernel_w * l.in.c;
        break;
      case LayerKind::kDepthwiseConv2D:
        macs += out * l.kernel_h * l.kernel_w;
        break;
      case LayerKind::kFullyConnected:
        macs += out * l.in.size();
        break;
      default:
        break;
    }
  }
  return macs;
}

ImageNetChoice measure_image_net(const ImageNetSpec& spec, Shape3 input, int classes,
                                 const std::vector<std::string>& labels, std::optional<QuantParams> input_params) {
  FloatNet net = image_net_skeleton(spec, input, classes);
  // Random weights at He-like scale: quantisation needs sensible ranges at every layer (the
  // softmax input especially); the sizes do not depend on the values.
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto& l : net.layers) {
    if (l.weights.empty()) continue;
    const float fan_in = static_cast<float>(l.weights.size()) / static_cast<float>(std::max(1, l.out.c));
    const float scale = std::sqrt(6.0f / std::max(1.0f, fan_in));
    for (auto& w : l.weights) w = scale * u(rng);
    for (auto& b : l.bias) b = 0.1f;
  }
  std::vector<std::vector<float>> calibration(4, std::vector<float>(static_cast<std::size_t>(input.size())));
  for (auto& x : calibration)
    for (auto& v : x) v = input_params ? 0.5f + 0.5f * u(rng) : u(rng);
  const QuantNet q = quantize(net, calibration, input_params);
  model::ModelMetadata meta;
  meta.name = "image-" + spec.arch + "-budget";
  meta.labels = labels;
  meta.input_description = std::to_string(input.h) + "x" + std::to_string(input.w) + "x" + std::to_string(input.c) +
                           " image, q = pixel - 128";
  const auto compiled = export_tem(q, meta);
  ImageNetChoice c;
  c.spec = spec;
  c.arena_bytes = compiled.arena_bytes;
  c.tem_bytes = compiled.tem.size();
  c.parameters = compiled.parameter_count;
  c.macs = multiply_accumulates(net);
  return c;
}

ImageNetChoice pick_image_net(const ImageNetSpec& shape, Shape3 input, int classes, const ImageBudget& budget,
                              const std::vector<std::string>& labels, std::optional<QuantParams> input_params) {
  const std::string& arch = shape.arch;
  std::optional<ImageNetChoice> best, smallest;
  for (int width : {8, 12, 16, 24, 32, 48}) {
    for (int blocks = 1; blocks <= 6; ++blocks) {
      const auto c = measure_image_net({arch, width, blocks, shape.one_d}, input, classes, labels, input_params);
      if (!smallest || c.arena_bytes + c.tem_bytes < smallest->arena_bytes + smallest->tem_bytes) smallest = c;
      if (c.arena_bytes > budget.ram_bytes || c.tem_bytes > budget.flash_bytes) continue;
      if (!best || c.parameters > best->parameters || (c.parameters == best->parameters && c.macs < best->macs))
        best = c;
    }
  }
  if (!best)
    throw std::runtime_error("no " + arch + " fits --ram " + std::to_string(budget.ram_bytes) + " / --flash " +
                             std::to_string(budget.flash_bytes) + " bytes for a " + std::to_string(input.h) + "x" +
                             std::to_string(input.w) + "x" + std::to_string(input.c) +
                             " input: the smallest needs an arena of " + std::to_string(smallest->arena_bytes) +
                             " and a .tem of " + std::to_string(smallest->tem_bytes) + " bytes");
  return *best;
}

std::uint32_t parse_byte_size(const std::string& text) {
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &used);
  } catch (const std::exception&) {
    throw std::runtime_error("'" + text + "' is not a size (e.g. 64K, 256K, 1M, 65536)");
  }
  const std::string unit = text.substr(used);
  if (unit == "K" || unit == "k" || unit == "KB" || unit == "KiB")
    v *= 1024;
  else if (unit == "M" || unit == "m" || unit == "MB" || unit == "MiB")
    v *= 1024 * 1024;
  else if (!unit.empty())
    throw std::runtime_error("'" + text + "' is not a size (e.g. 64K, 256K, 1M, 65536)");
  if (v == 0 || v > 0xffffffffull) throw std::runtime_error("'" + text + "' is out of range");
  return static_cast<std::uint32_t>(v);
}

}  // namespace tinyedge::train
