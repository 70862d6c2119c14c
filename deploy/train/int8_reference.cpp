#include "deploy/train/int8_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace tinyedge::train {
namespace {

std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) {
  if (a == b && a == std::numeric_limits<std::int32_t>::min()) return std::numeric_limits<std::int32_t>::max();
  const std::int64_t ab = static_cast<std::int64_t>(a) * b;
  const std::int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<std::int32_t>((ab + nudge) / (std::int64_t{1} << 31));
}

std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) {
  const std::int32_t mask = static_cast<std::int32_t>((std::int64_t{1} << exponent) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

struct Requant {
  std::vector<std::int32_t> multiplier;
  std::vector<int> shift;
};

Requant requant_for(const QuantLayer& l) {
  Requant r;
  for (float ws : l.weight_scales) {
    std::int32_t m;
    int s;
    quantize_multiplier(static_cast<double>(l.input.scale) * ws / l.output.scale, m, s);
    r.multiplier.push_back(m);
    r.shift.push_back(s);
  }
  return r;
}

std::int8_t finish(std::int32_t acc, const Requant& r, std::size_t c, const QuantLayer& l) {
  const std::size_t k = r.multiplier.size() == 1 ? 0 : c;
  std::int32_t v = multiply_by_quantized_multiplier(acc, r.multiplier[k], r.shift[k]) + l.output.zero_point;
  const std::int32_t lo = l.layer.relu ? std::max<std::int32_t>(-128, l.output.zero_point) : -128;
  const std::int32_t hi =
      l.layer.relu6 ? std::min<std::int32_t>(
                          127, l.output.zero_point + static_cast<std::int32_t>(std::round(6.0f / l.output.scale)))
                    : 127;
  return static_cast<std::int8_t>(std::clamp<std::int32_t>(v, lo, hi));
}

void conv2d(const QuantLayer& ql, std::span<const std::int8_t> x, std::int8_t* y) {
  const Layer& l = ql.layer;
  const Requant r = requant_for(ql);
  const int pt = l.pad_top(), pl = l.pad_left();
  const std::int32_t in_zp = ql.input.zero_point;
  for (int oy = 0; oy < l.out.h; ++oy)
    for (int ox = 0; ox < l.out.w; ++ox)
      for (int oc = 0; oc < l.out.c; ++oc) {
        std::int32_t acc = ql.bias[oc];
        for (int ky = 0; ky < l.kernel_h; ++ky) {
          const int iy = oy * l.stride_h - pt + ky;
          if (iy < 0 || iy >= l.in.h) continue;
          for (int kx = 0; kx < l.kernel_w; ++kx) {
            const int ix = ox * l.stride_w - pl + kx;
            if (ix < 0 || ix >= l.in.w) continue;
            const std::int8_t* xp = &x[(iy * l.in.w + ix) * l.in.c];
            const std::int8_t* wp = &ql.weights[((oc * l.kernel_h + ky) * l.kernel_w + kx) * l.in.c];
            for (int ic = 0; ic < l.in.c; ++ic) acc += (xp[ic] - in_zp) * wp[ic];
          }
        }
        y[(oy * l.out.w + ox) * l.out.c + oc] = finish(acc, r, static_cast<std::size_t>(oc), ql);
      }
}

void depthwise_conv2d(const QuantLayer& ql, std::span<const std::int8_t> x, std::int8_t* y) {
  const Layer& l = ql.layer;
  const Requant r = requant_for(ql);
  const int pt = l.pad_top(), pl = l.pad_left();
  const std::int32_t in_zp = ql.input.zero_point;
  for (int oy = 0; oy < l.out.h; ++oy)
    for (int ox = 0; ox < l.out.w; ++ox)
      for (int c = 0; c < l.out.c; ++c) {
        std::int32_t acc = ql.bias[c];
        for (int ky = 0; ky < l.kernel_h; ++ky) {
          const int iy = oy * l.stride_h - pt + ky;
          if (iy < 0 || iy >= l.in.h) continue;
          for (int kx = 0; kx < l.kernel_w; ++kx) {
            const int ix = ox * l.stride_w - pl + kx;
            if (ix < 0 || ix >= l.in.w) continue;
            acc += (x[(iy * l.in.w + ix) * l.in.c + c] - in_zp) * ql.weights[(ky * l.kernel_w + kx) * l.in.c + c];
          }
        }
        y[(oy * l.out.w + ox) * l.out.c + c] = finish(acc, r, static_cast<std::size_t>(c), ql);
      }
}

// TFLite's int8 average: the sum over the cells inside the input, divided by their count with
// rounding half away from zero.
void average_pool(const QuantLayer& ql, std::span<const std::int8_t> x, std::int8_t* y) {
  const Layer& l = ql.layer;
  const int pt = l.pad_top(), pl = l.pad_left();
  const std::int32_t lo = l.relu ? std::max<std::int32_t>(-128, ql.output.zero_point) : -128;
  for (int oy = 0; oy < l.out.h; ++oy)
    for (int ox = 0; ox < l.out.w; ++ox)
      for (int c = 0; c < l.out.c; ++c) {
        std::int32_t sum = 0, count = 0;
        for (int ky = 0; ky < l.kernel_h; ++ky)
          for (int kx = 0; kx < l.kernel_w; ++kx) {
            const int iy = oy * l.stride_h - pt + ky, ix = ox * l.stride_w - pl + kx;
            if (iy < 0 || iy >= l.in.h || ix < 0 || ix >= l.in.w) continue;
            sum += x[(iy * l.in.w + ix) * l.in.c + c];
            ++count;
          }
        const std::int32_t avg = count == 0 ? 0 : (sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count);
        y[(oy * l.out.w + ox) * l.out.c + c] = static_cast<std::int8_t>(std::clamp<std::int32_t>(avg, lo, 127));
      }
}

void fully_connected(const QuantLayer& ql, std::span<const std::int8_t> x, std::int8_t* y) {
  const Requant r = requant_for(ql);
  const int n_in = ql.layer.in.size();
  for (int o = 0; o < ql.layer.out.c; ++o) {
    std::int32_t acc = ql.bias[o];
    const std::int8_t* w = &ql.weights[static_cast<std::size_t>(o) * n_in];
    for (int i = 0; i < n_in; ++i) acc += (x[i] - ql.input.zero_point) * w[i];
    y[o] = finish(acc, r, static_cast<std::size_t>(o), ql);
  }
}

void max_pool(const QuantLayer& ql, std::span<const std::int8_t> x, std::int8_t* y) {
  const Layer& l = ql.layer;
  const int pt = l.pad_top(), pl = l.pad_left();
  const std::int32_t lo = l.relu ? std::max<std::int32_t>(-128, ql.output.zero_point) : -128;
  for (int oy = 0; oy < l.out.h; ++oy)
    for (int ox = 0; ox < l.out.w; ++ox)
      for (int c = 0; c < l.out.c; ++c) {
        std::int32_t m = -128;
        for (int ky = 0; ky < l.kernel_h; ++ky)
          for (int kx = 0; kx < l.kernel_w; ++kx) {
            const int iy = oy * l.stride_h - pt + ky, ix = ox * l.stride_w - pl + kx;
            if (iy < 0 || iy >= l.in.h || ix < 0 || ix >= l.in.w) continue;
            m = std::max<std::int32_t>(m, x[(iy * l.in.w + ix) * l.in.c + c]);
          }
        y[(oy * l.out.w + ox) * l.out.c + c] = static_cast<std::int8_t>(std::clamp<std::int32_t>(m, lo, 127));
      }
}

// Float softmax quantised to 1/256: the runtime's fixed-point softmax can differ by an LSB, which
// never moves the arg-max by more than a tie.
void softmax(const QuantLayer& ql, std::span<const std::int8_t> x, std::int8_t* y) {
  std::vector<float> v(x.size());
  float m = -std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, v[i] = ql.input.dequantize(x[i]));
  float sum = 0;
  for (auto& e : v) sum += (e = std::exp(e - m));
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = ql.output.quantize(v[i] / sum);
}

// TFLite's int8 ADD: both operands shifted left 20 bits and rescaled to twice the larger input
// scale, summed, then rescaled to the output's.
void add(const QuantLayer& ql, std::span<const std::int8_t> a, std::span<const std::int8_t> b, std::int8_t* y) {
  constexpr int kLeftShift = 20;
  const double twice_max = 2.0 * std::max(ql.input.scale, ql.skip_input.scale);
  std::int32_t m1, m2, mo;
  int s1, s2, so;
  quantize_multiplier(ql.input.scale / twice_max, m1, s1);
  quantize_multiplier(ql.skip_input.scale / twice_max, m2, s2);
  quantize_multiplier(twice_max / ((1 << kLeftShift) * static_cast<double>(ql.output.scale)), mo, so);
  const std::int32_t lo = ql.layer.relu ? std::max<std::int32_t>(-128, ql.output.zero_point) : -128;
  const std::int32_t hi =
      ql.layer.relu6 ? std::min<std::int32_t>(
                           127, ql.output.zero_point + static_cast<std::int32_t>(std::round(6.0f / ql.output.scale)))
                     : 127;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::int32_t x1 = (a[i] - ql.input.zero_point) * (1 << kLeftShift);
    const std::int32_t x2 = (b[i] - ql.skip_input.zero_point) * (1 << kLeftShift);
    const std::int32_t sum =
        multiply_by_quantized_multiplier(x1, m1, s1) + multiply_by_quantized_multiplier(x2, m2, s2);
    const std::int32_t v = multiply_by_quantized_multiplier(sum, mo, so) + ql.output.zero_point;
    y[i] = static_cast<std::int8_t>(std::clamp(v, lo, hi));
  }
}

}  // namespace

void quantize_multiplier(double real, std::int32_t& multiplier, int& shift) {
  if (real == 0.0) {
    multiplier = 0;
    shift = 0;
    return;
  }
  const double q = std::frexp(real, &shift);
  auto q_fixed = static_cast<std::int64_t>(std::round(q * (std::int64_t{1} << 31)));
  if (q_fixed == (std::int64_t{1} << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) {
    shift = 0;
    q_fixed = 0;
  }
  multiplier = static_cast<std::int32_t>(q_fixed);
}

std::int32_t multiply_by_quantized_multiplier(std::int32_t x, std::int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x * (1 << left), multiplier), right);
}

std::vector<std::int8_t> run_int8_reference(const QuantNet& net, std::span<const std::int8_t> input) {
  if (input.size() != static_cast<std::size_t>(net.input.size()))
    throw std::runtime_error("int8 input has " + std::to_string(input.size()) + " values, the network takes " +
                             std::to_string(net.input.size()));
  std::vector<std::int8_t> x(input.begin(), input.end()), y;
  std::vector<std::vector<std::int8_t>> outputs;  // an add reads an earlier layer's
  for (const auto& l : net.layers) {
    y.assign(static_cast<std::size_t>(l.layer.out.size()), 0);
    switch (l.layer.kind) {
      case LayerKind::kConv2D:
        conv2d(l, x, y.data());
        break;
      case LayerKind::kFullyConnected:
        fully_connected(l, x, y.data());
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
      case LayerKind::kSoftmax:
        softmax(l, x, y.data());
        break;
      case LayerKind::kAdd:
        add(l, x, l.layer.skip_from < 0 ? input : std::span<const std::int8_t>(outputs.at(l.layer.skip_from)),
            y.data());
        break;
    }
    outputs.push_back(y);
    x.swap(y);
  }
  return x;
}

}  // namespace tinyedge::train
