#include "deploy/train/float_net.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace tinyedge::train {
namespace {

int same_pad_before(int in, int kernel, int stride) {
  const int out = (in + stride - 1) / stride;
  const int total = std::max((out - 1) * stride + kernel - in, 0);
  return total / 2;
}

float activate(const Layer& l, float v) {
  if (!l.relu) return v;
  return l.relu6 ? std::clamp(v, 0.0f, 6.0f) : std::max(v, 0.0f);
}

void conv2d(const Layer& l, std::span<const float> x, float* y) {
  const int pt = l.pad_top(), pl = l.pad_left();
  for (int oy = 0; oy < l.out.h; ++oy)
    for (int ox = 0; ox < l.out.w; ++ox)
      for (int oc = 0; oc < l.out.c; ++oc) {
        float acc = l.bias[oc];
        for (int ky = 0; ky < l.kernel_h; ++ky) {
          const int iy = oy * l.stride_h - pt + ky;
          if (iy < 0 || iy >= l.in.h) continue;
          for (int kx = 0; kx < l.kernel_w; ++kx) {
            const int ix = ox * l.stride_w - pl + kx;
            if (ix < 0 || ix >= l.in.w) continue;
            const float* xp = &x[(iy * l.in.w + ix) * l.in.c];
            const float* wp = &l.weights[((oc * l.kernel_h + ky) * l.kernel_w + kx) * l.in.c];
            for (int ic = 0; ic < l.in.c; ++ic) acc += xp[ic] * wp[ic];
          }
        }
        y[(oy * l.out.w + ox) * l.out.c + oc] = activate(l, acc);
      }
}

// Depth multiplier 1: output channel c filters input channel c alone.
void depthwise_conv2d(const Layer& l, std::span<const float> x, float* y) {
  const int pt = l.pad_top(), pl = l.pad_left();
  for (int oy = 0; oy < l.out.h; ++oy)
    for (int ox = 0; ox < l.out.w; ++ox)
      for (int c = 0; c < l.out.c; ++c) {
        float acc = l.bias[c];
        for (int ky = 0; ky < l.kernel_h; ++ky) {
          const int iy = oy * l.stride_h - pt + ky;
          if (iy < 0 || iy >= l.in.h) continue;
          for (int kx = 0; kx < l.kernel_w; ++kx) {
            const int ix = ox * l.stride_w - pl + kx;
            if (ix < 0 || ix >= l.in.w) continue;
            acc += x[(iy * l.in.w + ix) * l.in.c + c] * l.weights[(ky * l.kernel_w + kx) * l.in.c + c];
          }
        }
        y[(oy * l.out.w + ox) * l.out.c + c] = activate(l, acc);
      }
}

// Mean over the window's cells inside the input (TFLite divides by the count it summed).
void average_pool(const Layer& l, std::span<const float> x, float* y) {
  const int pt = l.pad_top(), pl = l.pad_left();
  for (int oy = 0; oy < l.out.h; ++oy)
    for (int ox = 0; ox < l.out.w; ++ox)
      for (int c = 0; c < l.out.c; ++c) {
        float sum = 0;
        int count = 0;
        for (int ky = 0; ky < l.kernel_h; ++ky)
          for (int kx = 0; kx < l.kernel_w; ++kx) {
            const int iy = oy * l.stride_h - pt + ky, ix = ox * l.stride_w - pl + kx;
            if (iy < 0 || iy >= l.in.h || ix < 0 || ix >= l.in.w) continue;
            sum += x[(iy * l.in.w + ix) * l.in.c + c];
            ++count;
          }
        const float m = count ? sum / static_cast<float>(count) : 0.0f;
        y[(oy * l.out.w + ox) * l.out.c + c] = l.relu ? std::max(m, 0.0f) : m;
      }
}

void max_pool(const Layer& l, std::span<const float> x, float* y) {
  const int pt = l.pad_top(), pl = l.pad_left();
  for (int oy = 0; oy < l.out.h; ++oy)
    for (int ox = 0; ox < l.out.w; ++ox)
      for (int c = 0; c < l.out.c; ++c) {
        float m = -std::numeric_limits<float>::infinity();
        for (int ky = 0; ky < l.kernel_h; ++ky)
          for (int kx = 0; kx < l.kernel_w; ++kx) {
            const int iy = oy * l.stride_h - pt + ky, ix = ox * l.stride_w - pl + kx;
            if (iy < 0 || iy >= l.in.h || ix < 0 || ix >= l.in.w) continue;
            m = std::max(m, x[(iy * l.in.w + ix) * l.in.c + c]);
          }
        y[(oy * l.out.w + ox) * l.out.c + c] = l.relu ? std::max(m, 0.0f) : m;
      }
}

void fully_connected(const Layer& l, std::span<const float> x, float* y) {
  const int n_in = l.in.size();
  for (int o = 0; o < l.out.c; ++o) {
    float acc = l.bias[o];
    const float* w = &l.weights[static_cast<std::size_t>(o) * n_in];
    for (int i = 0; i < n_in; ++i) acc += x[i] * w[i];
    y[o] = activate(l, acc);
  }
}

void softmax(std::span<const float> x, float* y) {
  const float m = *std::max_element(x.begin(), x.end());
  float sum = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sum += (y[i] = std::exp(x[i] - m));
  for (std::size_t i = 0; i < x.size(); ++i) y[i] /= sum;
}

}  // namespace

int Layer::pad_top() const { return padding == Padding::kSame ? same_pad_before(in.h, kernel_h, stride_h) : 0; }
int Layer::pad_left() const { return padding == Padding::kSame ? same_pad_before(in.w, kernel_w, stride_w) : 0; }

int conv_out_size(int in, int kernel, int stride, Padding padding) {
  return padding == Padding::kSame ? (in + stride - 1) / stride : (in - kernel) / stride + 1;
}

std::size_t FloatNet::weight_count() const {
  std::size_t n = 0;
  for (const auto& l : layers) n += l.weights.size();
  return n;
}

void validate(const FloatNet& net) {
  Shape3 shape = net.input;
  std::vector<Shape3> outputs;  // every layer's output shape, for an add's second operand
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const auto& l = net.layers[i];
    const std::string where = net.arch + " layer " + std::to_string(i) + ": ";
    if (!(l.in == shape)) throw std::runtime_error(where + "input shape does not match the previous output");
    Shape3 expect = l.out;
    switch (l.kind) {
      case LayerKind::kConv2D:
        expect = {conv_out_size(l.in.h, l.kernel_h, l.stride_h, l.padding),
                  conv_out_size(l.in.w, l.kernel_w, l.stride_w, l.padding), l.out.c};
        if (l.weights.size() != static_cast<std::size_t>(l.out.c * l.kernel_h * l.kernel_w * l.in.c) ||
            l.bias.size() != static_cast<std::size_t>(l.out.c))
          throw std::runtime_error(where + "conv weight/bias size mismatch");
        break;
      case LayerKind::kDepthwiseConv2D:
        expect = {conv_out_size(l.in.h, l.kernel_h, l.stride_h, l.padding),
                  conv_out_size(l.in.w, l.kernel_w, l.stride_w, l.padding), l.in.c};
        if (l.weights.size() != static_cast<std::size_t>(l.kernel_h * l.kernel_w * l.in.c) ||
            l.bias.size() != static_cast<std::size_t>(l.in.c))
          throw std::runtime_error(where + "depthwise weight/bias size mismatch");
        break;
      case LayerKind::kMaxPool2D:
      case LayerKind::kAveragePool2D:
        expect = {conv_out_size(l.in.h, l.kernel_h, l.stride_h, l.padding),
                  conv_out_size(l.in.w, l.kernel_w, l.stride_w, l.padding), l.in.c};
        break;
      case LayerKind::kFullyConnected:
        expect = {1, 1, l.out.c};
        if (l.weights.size() != static_cast<std::size_t>(l.out.c) * l.in.size() ||
            l.bias.size() != static_cast<std::size_t>(l.out.c))
          throw std::runtime_error(where + "fully-connected weight/bias size mismatch");
        break;
      case LayerKind::kSoftmax:
        expect = l.in;
        break;
      case LayerKind::kAdd:
        expect = l.in;
        if (l.skip_from < -1 || l.skip_from >= static_cast<int>(i))
          throw std::runtime_error(where + "add reads layer " + std::to_string(l.skip_from) + ", not an earlier one");
        if (!((l.skip_from < 0 ? net.input : outputs[static_cast<std::size_t>(l.skip_from)]) == l.in))
          throw std::runtime_error(where + "add's operands differ in shape");
        break;
    }
    if (!(expect == l.out)) throw std::runtime_error(where + "output shape is inconsistent with the layer");
    shape = l.out;
    outputs.push_back(l.out);
  }
}

std::vector<float> forward(const FloatNet& net, std::span<const float> input,
                           std::vector<std::vector<float>>* activations) {
  if (input.size() != static_cast<std::size_t>(net.input.size()))
    throw std::runtime_error("input has " + std::to_string(input.size()) + " values, the network takes " +
                             std::to_string(net.input.size()));
  std::vector<float> x(input.begin(), input.end()), y;
  if (activations) activations->clear();
  // An add reads an earlier layer's output: keep them all when the net has one.
  const bool residual =
      std::any_of(net.layers.begin(), net.layers.end(), [](const Layer& l) { return l.kind == LayerKind::kAdd; });
  std::vector<std::vector<float>> kept;
  for (const auto& l : net.layers) {
    y.assign(static_cast<std::size_t>(l.out.size()), 0.0f);
    switch (l.kind) {
      case LayerKind::kConv2D:
        conv2d(l, x, y.data());
        break;
      case LayerKind::kDepthwiseConv2D:
        depthwise_conv2d(l, x, y.data());
        break;
      case LayerKind::kMaxPool2D:
        max_pool(l, x, y.data());
        break;
      case LayerKind::kAveragePool2D:
        average_pool(l, x, y.data());
        break;
      case LayerKind::kFullyConnected:
        fully_connected(l, x, y.data());
        break;
      case LayerKind::kSoftmax:
        softmax(x, y.data());
        break;
      case LayerKind::kAdd: {
        const std::span<const float> other =
            l.skip_from < 0 ? input : std::span<const float>(kept[static_cast<std::size_t>(l.skip_from)]);
        for (std::size_t k = 0; k < y.size(); ++k) y[k] = activate(l, x[k] + other[k]);
        break;
      }
    }
    if (residual) kept.push_back(y);
    if (activations) activations->push_back(y);
    x.swap(y);
  }
  return x;
}

}  // namespace tinyedge::train
