// Optimised convolutions. The compiler packs per output channel
//   packed[oc] = bias[oc] + input_offset * sum(filter[oc])
// so an output is packed[oc] + dot(x, w) over the window, where taps outside the image count as
// x = input zero point (exactly TFLite's "skip the tap", since (zp + input_offset) * w == 0).
#include <cstring>

#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/dot.h"
#include "node_firmware/runtime/kernels/optimized.h"

namespace tinyedge::runtime::optimized {
namespace {

inline int8_t requantise(int32_t acc, const OpContext& ctx, int32_t oc) {
  const TemOp& op = *ctx.op;
  const int q = op.quant_count > 1 ? oc : 0;
  acc = fx::requantise_fast(acc, ctx.multipliers[q], ctx.shifts[q]);
  return fx::clamp_int8(fx::wrap_add(acc, op.output_offset), op.act_min, op.act_max);
}

// A run of channels [c0, c0+n) of one pixel, with the per-op constants hoisted.
inline void requantise_run(const int32_t* acc, int32_t n, const OpContext& ctx, int32_t c0, int8_t* dst) {
  const TemOp& op = *ctx.op;
  const int32_t lo = op.act_min, hi = op.act_max, zp = op.output_offset;
  const bool per_channel = op.quant_count > 1;
  const int32_t* mult = ctx.multipliers + (per_channel ? c0 : 0);
  const int32_t* shift = ctx.shifts + (per_channel ? c0 : 0);
  for (int32_t c = 0; c < n; ++c) {
    const int32_t q = per_channel ? c : 0;
    const int32_t v = fx::wrap_add(fx::requantise_fast(acc[c], mult[q], shift[q]), zp);
    dst[c] = static_cast<int8_t>(v < lo ? lo : (v > hi ? hi : v));
  }
}

inline int32_t sum(const int8_t* w, int32_t n) {
  int32_t s = 0;
  for (int32_t i = 0; i < n; ++i) s += w[i];
  return s;
}

// Output channels [oc, oc_end) of one pixel from a contiguous K-long patch (weights [O][K]).
inline void conv_pixel(const OpContext& ctx, const int8_t* patch, int32_t k, int8_t* dst) {
  const int32_t channels = ctx.output_shape.c;
  int32_t oc = 0;
  for (; oc + 4 <= channels; oc += 4) {
    int32_t acc[4];
    dot4(patch, ctx.filter + oc * k, k, acc);
    for (int j = 0; j < 4; ++j) acc[j] = fx::wrap_add(ctx.packed[oc + j], acc[j]);
    requantise_run(acc, 4, ctx, oc, dst + oc);
  }
  for (; oc < channels; ++oc) {
    dst[oc] = requantise(fx::wrap_add(ctx.packed[oc], dot(patch, ctx.filter + oc * k, k)), ctx, oc);
  }
}

// Same, from weights the compiler transposed to [K][O]: the inner loop runs over output
// channels (vectorises well when K is short, e.g. 1x1 convs over few channels).
inline void conv_pixel_transposed(const OpContext& ctx, const int8_t* patch, int32_t k, const int8_t* wt, int8_t* dst) {
  constexpr int32_t kBlock = 64;
  const int32_t channels = ctx.output_shape.c;
  uint32_t acc[kBlock];  // unsigned: wraps like int32 without UB
  int32_t result[kBlock];
  for (int32_t c0 = 0; c0 < channels; c0 += kBlock) {
    const int32_t n = channels - c0 < kBlock ? channels - c0 : kBlock;
    for (int32_t c = 0; c < n; ++c) acc[c] = static_cast<uint32_t>(ctx.packed[c0 + c]);
    for (int32_t i = 0; i < k; ++i) {
      const int16_t x = patch[i];
      const int8_t* w = wt + i * channels + c0;
      for (int32_t c = 0; c < n; ++c) acc[c] += static_cast<uint32_t>(static_cast<int16_t>(x * w[c]));
    }
    for (int32_t c = 0; c < n; ++c) result[c] = static_cast<int32_t>(acc[c]);
    requantise_run(result, n, ctx, c0, dst + c0);
  }
}

}  // namespace

void conv2d(const OpContext& ctx) {
  // Patches up to this size are gathered (im2col, one pixel at a time) on the stack.
  constexpr int32_t kMaxPatch = 768;
  const TemOp& op = *ctx.op;
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const Shape4& out = ctx.output_shape;
  const int32_t zp = -op.input_offset;
  const int32_t taps_len = f.w * f.c;  // one filter row, contiguous in [O,KH,KW,I]
  const int32_t filter_len = f.h * taps_len;
  const int32_t span_y = (f.h - 1) * op.dilation_h;
  const int32_t span_x = (f.w - 1) * op.dilation_w;
  alignas(16) int8_t patch[kMaxPatch];
#if defined(__ARM_FEATURE_DSP)
  // SMLAD dot products beat the per-channel loop on the M4 whatever K is: keep [O][K].
  const int8_t* transposed = nullptr;
#else
  const int8_t* transposed = op.packing == static_cast<uint8_t>(TemPacking::kBiasTransposedConv)
                                 ? reinterpret_cast<const int8_t*>(ctx.packed + out.c)
                                 : nullptr;
#endif
  for (int32_t b = 0; b < out.n; ++b) {
    const int8_t* image = ctx.input + b * in.h * in.w * in.c;
    for (int32_t oy = 0; oy < out.h; ++oy) {
      const int32_t iy0 = oy * op.stride_h - op.pad_top;
      for (int32_t ox = 0; ox < out.w; ++ox) {
        const int32_t ix0 = ox * op.stride_w - op.pad_left;
        int8_t* dst = ctx.output + ((b * out.h + oy) * out.w + ox) * out.c;
        const bool interior = iy0 >= 0 && iy0 + span_y < in.h && ix0 >= 0 && ix0 + span_x < in.w;
        if (interior && f.h == 1 && op.dilation_w == 1) {
          // 1xN (incl. 1x1) inside the image: the input run itself is the patch.
          if (transposed != nullptr) {
            conv_pixel_transposed(ctx, image + (iy0 * in.w + ix0) * in.c, filter_len, transposed, dst);
          } else {
            conv_pixel(ctx, image + (iy0 * in.w + ix0) * in.c, filter_len, dst);
          }
          continue;
        }
        if (filter_len <= kMaxPatch) {
          // Gather the window; taps outside the image read as the zero point.
          int8_t* p = patch;
          for (int32_t fy = 0; fy < f.h; ++fy) {
            const int32_t iy = iy0 + fy * op.dilation_h;
            for (int32_t fx = 0; fx < f.w; ++fx, p += f.c) {
              const int32_t ix = ix0 + fx * op.dilation_w;
              if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) {
                std::memset(p, zp, static_cast<size_t>(f.c));
              } else {
                std::memcpy(p, image + (iy * in.w + ix) * in.c, static_cast<size_t>(f.c));
              }
            }
          }
          if (transposed != nullptr) {
            conv_pixel_transposed(ctx, patch, filter_len, transposed, dst);
          } else {
            conv_pixel(ctx, patch, filter_len, dst);
          }
          continue;
        }
        // Large windows: accumulate row by row straight from the input.
        for (int32_t oc = 0; oc < out.c; ++oc) {
          const int8_t* w = ctx.filter + oc * filter_len;
          int32_t acc = ctx.packed[oc];
          for (int32_t fy = 0; fy < f.h; ++fy) {
            const int32_t iy = iy0 + fy * op.dilation_h;
            for (int32_t fx = 0; fx < f.w; ++fx) {
              const int32_t ix = ix0 + fx * op.dilation_w;
              const int8_t* wt = w + (fy * f.w + fx) * f.c;
              if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) {
                acc = fx::wrap_add(acc, zp * sum(wt, f.c));
              } else {
                acc = fx::wrap_add(acc, dot(image + (iy * in.w + ix) * in.c, wt, f.c));
              }
            }
          }
          dst[oc] = requantise(acc, ctx, oc);
        }
      }
    }
  }
  (void)taps_len;
}

void depthwise_conv2d(const OpContext& ctx) {
  constexpr int32_t kBlock = 64;  // channels per pass: int32 accumulators on the stack
  const TemOp& op = *ctx.op;
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const Shape4& out = ctx.output_shape;
  const int32_t dm = op.depth_multiplier;
  uint32_t acc[kBlock];  // unsigned: wraps like int32 on every target, without UB
  int32_t xs[kBlock];
  for (int32_t b = 0; b < out.n; ++b) {
    const int8_t* image = ctx.input + b * in.h * in.w * in.c;
    for (int32_t oy = 0; oy < out.h; ++oy) {
      const int32_t iy0 = oy * op.stride_h - op.pad_top;
      for (int32_t ox = 0; ox < out.w; ++ox) {
        const int32_t ix0 = ox * op.stride_w - op.pad_left;
        int8_t* dst = ctx.output + ((b * out.h + oy) * out.w + ox) * out.c;
        for (int32_t c0 = 0; c0 < out.c; c0 += kBlock) {
          const int32_t n = out.c - c0 < kBlock ? out.c - c0 : kBlock;
          for (int32_t c = 0; c < n; ++c) acc[c] = static_cast<uint32_t>(ctx.packed[c0 + c]);
          for (int32_t fy = 0; fy < f.h; ++fy) {
            const int32_t iy = iy0 + fy * op.dilation_h;
            for (int32_t fx = 0; fx < f.w; ++fx) {
              const int32_t ix = ix0 + fx * op.dilation_w;
              const int8_t* w = ctx.filter + (fy * f.w + fx) * f.c + c0;
              if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) {
                // Outside the image: x = zero point, cancelling the offset folded into packed[].
                const int32_t zp = -op.input_offset;
                for (int32_t c = 0; c < n; ++c) acc[c] += static_cast<uint32_t>(zp * w[c]);
                continue;
              }
              const int8_t* x = image + (iy * in.w + ix) * in.c;
              if (dm == 1) {
                for (int32_t c = 0; c < n; ++c) {
                  acc[c] += static_cast<uint32_t>(static_cast<int16_t>(x[c0 + c]) * static_cast<int16_t>(w[c]));
                }
              } else {
                for (int32_t c = 0; c < n; ++c) xs[c] = x[(c0 + c) / dm];
                for (int32_t c = 0; c < n; ++c) acc[c] += static_cast<uint32_t>(xs[c] * w[c]);
              }
            }
          }
          int32_t result[kBlock];
          for (int32_t c = 0; c < n; ++c) result[c] = static_cast<int32_t>(acc[c]);
          requantise_run(result, n, ctx, c0, dst + c0);
        }
      }
    }
  }
}

void fully_connected(const OpContext& ctx) {
  const int32_t units = ctx.filter_shape.n;
  const int32_t depth = ctx.filter_shape.c;
  const int32_t batches = ctx.output_shape.elements() / units;
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t* x = ctx.input + b * depth;
    int32_t u = 0;
    for (; u + 4 <= units; u += 4) {  // four units share each load of x
      int32_t acc[4];
      dot4(x, ctx.filter + u * depth, depth, acc);
      for (int j = 0; j < 4; ++j) acc[j] = fx::wrap_add(ctx.packed[u + j], acc[j]);
      requantise_run(acc, 4, ctx, u, ctx.output + b * units + u);
    }
    for (; u < units; ++u) {
      const int32_t acc = fx::wrap_add(ctx.packed[u], dot(x, ctx.filter + u * depth, depth));
      ctx.output[b * units + u] = requantise(acc, ctx, u);
    }
  }
}

void average_pool2d(const OpContext& ctx) {
  constexpr int32_t kBlock = 64;
  const TemOp& op = *ctx.op;
  const Shape4& in = ctx.input_shape;
  const Shape4& out = ctx.output_shape;
  int32_t acc[kBlock];
  for (int32_t b = 0; b < out.n; ++b) {
    for (int32_t oy = 0; oy < out.h; ++oy) {
      for (int32_t ox = 0; ox < out.w; ++ox) {
        const int32_t y0 = oy * op.stride_h - op.pad_top;
        const int32_t x0 = ox * op.stride_w - op.pad_left;
        const int32_t fy_start = y0 < 0 ? -y0 : 0;
        const int32_t fx_start = x0 < 0 ? -x0 : 0;
        const int32_t fy_end = (in.h - y0) < op.filter_h ? (in.h - y0) : op.filter_h;
        const int32_t fx_end = (in.w - x0) < op.filter_w ? (in.w - x0) : op.filter_w;
        const int32_t count = (fy_end > fy_start && fx_end > fx_start) ? (fy_end - fy_start) * (fx_end - fx_start) : 0;
        int8_t* dst = ctx.output + ((b * out.h + oy) * out.w + ox) * out.c;
        for (int32_t c0 = 0; c0 < out.c; c0 += kBlock) {
          const int32_t n = out.c - c0 < kBlock ? out.c - c0 : kBlock;
          for (int32_t c = 0; c < n; ++c) acc[c] = 0;
          for (int32_t fy = fy_start; fy < fy_end; ++fy) {
            for (int32_t fx = fx_start; fx < fx_end; ++fx) {
              const int8_t* x = ctx.input + ((b * in.h + y0 + fy) * in.w + x0 + fx) * in.c + c0;
              for (int32_t c = 0; c < n; ++c) acc[c] += x[c];
            }
          }
          for (int32_t c = 0; c < n; ++c) {
            int32_t v = 0;
            if (count > 0) v = acc[c] > 0 ? (acc[c] + count / 2) / count : (acc[c] - count / 2) / count;
            dst[c0 + c] = fx::clamp_int8(v, op.act_min, op.act_max);
          }
        }
      }
    }
  }
}

}  // namespace tinyedge::runtime::optimized
