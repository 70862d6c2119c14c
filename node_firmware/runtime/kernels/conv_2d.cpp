// CONV_2D, int8 (TFLite reference_integer_ops::ConvPerChannel semantics). The optimised version
// relies on data the compiler packs per output channel:
//   packed[oc] = bias[oc] + input_offset * sum(filter[oc])
// so an output is packed[oc] + dot(x, w) over the window, where taps outside the image count as
// x = input zero point (exactly TFLite's "skip the tap", since (zp + input_offset) * w == 0).
#include <cstring>

#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/basic_validate.h"
#include "node_firmware/runtime/kernels/conv_16x8.h"
#include "node_firmware/runtime/kernels/conv_validate.h"
#include "node_firmware/runtime/kernels/dot.h"
#include "node_firmware/runtime/kernels/dsp_conv.h"
#include "node_firmware/runtime/kernels/requantise.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate_16x8(const ValidateContext& v) {
  Status status;
  const BasicOpParams* p = basic_16x8_op(v, status);
  if (p == nullptr) return status;
  const TemTensor& tin = *v.input(0);
  const TemTensor& tf = *v.input(1);
  const TemTensor* tb = v.input(2);
  const TemTensor& tout = *v.output(0);
  if (tin.rank != 4 || tout.rank != 4 || tf.rank != 4) return Status::kBadShape;
  const Shape4 in = shape_of(tin), out = shape_of(tout), f = shape_of(tf);
  if (in.n != out.n || f.c != in.c || f.n != out.c) return Status::kBadShape;
  if (tb != nullptr && (tb->rank != 1 || static_cast<int32_t>(tb->dims[0]) != out.c)) return Status::kBadShape;
  if (int64_t{f.h} * f.w * f.c > kMaxDotLength) return Status::kTooLarge;
  if (p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1) return Status::kBadParams;
  return quant_16x8(v, static_cast<uint32_t>(out.c));
}

Status validate(const ValidateContext& v) {
  return is_16x8(v) ? validate_16x8(v) : validate_int8_conv</*depthwise=*/false>(v);
}

void reference_conv2d(const OpContext& ctx) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const Shape4& out = ctx.output_shape;
  const bool per_channel = ctx.quant_count > 1;
  const int32_t depth = f.h * f.w * f.c;
  const int32_t block = dsp::blocked_filter(ctx) ? dsp::conv_block(depth) : 0;
  for (int32_t b = 0; b < out.n; ++b) {
    for (int32_t oy = 0; oy < out.h; ++oy) {
      const int32_t in_y0 = oy * op.stride_h - op.pad_top;
      for (int32_t ox = 0; ox < out.w; ++ox) {
        const int32_t in_x0 = ox * op.stride_w - op.pad_left;
        for (int32_t oc = 0; oc < out.c; ++oc) {
          int32_t acc = 0;
          for (int32_t fy = 0; fy < f.h; ++fy) {
            const int32_t iy = in_y0 + fy * op.dilation_h;
            if (iy < 0 || iy >= in.h) continue;
            for (int32_t fx = 0; fx < f.w; ++fx) {
              const int32_t ix = in_x0 + fx * op.dilation_w;
              if (ix < 0 || ix >= in.w) continue;
              const int8_t* x = ctx.input + ((b * in.h + iy) * in.w + ix) * in.c;
              const int32_t k0 = (fy * f.w + fx) * f.c;
              if (block != 0) {  // a filter blocked for the M4: each tap through the layout
                for (int32_t ic = 0; ic < in.c; ++ic) {
                  acc += (x[ic] + op.input_offset) * ctx.filter[dsp::blocked_offset(out.c, depth, block, oc, k0 + ic)];
                }
                continue;
              }
              const int8_t* w = ctx.filter + oc * depth + k0;
              for (int32_t ic = 0; ic < in.c; ++ic) acc += (x[ic] + op.input_offset) * w[ic];
            }
          }
          acc = fx::wrap_add(acc, ctx.bias[oc]);
          const int q = per_channel ? oc : 0;
          acc = fx::multiply_by_quantized_multiplier(acc, ctx.multipliers[q], ctx.shifts[q]);
          acc = fx::wrap_add(acc, op.output_offset);
          ctx.output[((b * out.h + oy) * out.w + ox) * out.c + oc] = fx::clamp_int8(acc, op.act_min, op.act_max);
        }
      }
    }
  }
}

// 16x8: TFLite's ConvPerChannel for int16 input (zero point 0: taps outside the image add 0).
template <class Acc>
void conv2d_16x8(const OpContext& ctx) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const Shape4& out = ctx.output_shape;
  const auto* input = reinterpret_cast<const int16_t*>(ctx.input);
  auto* output = reinterpret_cast<int16_t*>(ctx.output);
  for (int32_t b = 0; b < out.n; ++b) {
    for (int32_t oy = 0; oy < out.h; ++oy) {
      const int32_t in_y0 = oy * op.stride_h - op.pad_top;
      for (int32_t ox = 0; ox < out.w; ++ox) {
        const int32_t in_x0 = ox * op.stride_w - op.pad_left;
        for (int32_t oc = 0; oc < out.c; ++oc) {
          Acc acc = 0;
          for (int32_t fy = 0; fy < f.h; ++fy) {
            const int32_t iy = in_y0 + fy * op.dilation_h;
            if (iy < 0 || iy >= in.h) continue;
            for (int32_t fx = 0; fx < f.w; ++fx) {
              const int32_t ix = in_x0 + fx * op.dilation_w;
              if (ix < 0 || ix >= in.w) continue;
              const int16_t* x = input + ((b * in.h + iy) * in.w + ix) * in.c;
              const int8_t* w = ctx.filter + ((oc * f.h + fy) * f.w + fx) * f.c;
              for (int32_t ic = 0; ic < in.c; ++ic) acc = accumulate(acc, x[ic] * w[ic]);
            }
          }
          output[((b * out.h + oy) * out.w + ox) * out.c + oc] = output_16x8(acc, ctx, oc);
        }
      }
    }
  }
}

void conv2d_16x8(const OpContext& ctx) { bias_is_64(ctx) ? conv2d_16x8<int64_t>(ctx) : conv2d_16x8<int32_t>(ctx); }

using optimized::dot;
using optimized::dot4;
using optimized::requantise;
using optimized::requantise_run;

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

__attribute__((noinline)) void optimized_conv2d(const OpContext& ctx) {
  // Patches up to this size are gathered (im2col, one pixel at a time) on the stack.
  constexpr int32_t kMaxPatch = 768;
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
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
  const int8_t* transposed = nullptr;
  if (op.packing == static_cast<uint8_t>(TemPacking::kBiasTransposedConv)) {
    transposed = reinterpret_cast<const int8_t*>(ctx.packed + out.c);
  } else if (op.packing == static_cast<uint8_t>(TemPacking::kBiasScalesTransposedConv)) {
    transposed = reinterpret_cast<const int8_t*>(ctx.packed + 3 * out.c);  // after bias and scales
  }
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

// Without packed data (a hand-made blob) the reference does the work.
void eval(const OpContext& ctx) {
  if (is_16x8(ctx)) return conv2d_16x8(ctx);
  // A filter blocked for the M4 (only where dsp::conv2d fits: the loader holds the compiler to it)
  // runs the M4 kernel on every target: the host's loops read [O][K] rows.
  if (ctx.packed != nullptr && dsp::blocked_filter(ctx)) return dsp::conv2d(ctx, dsp::packed_scales(ctx));
#if defined(__ARM_FEATURE_DSP)
  // Dispatched here, not inside optimized_conv2d: its scratch arrays would sit on the stack too.
  if (ctx.packed != nullptr) {
    if (dsp::conv2d_fits(ctx)) return dsp::conv2d(ctx, dsp::packed_scales(ctx));
  }
#endif
  ctx.packed != nullptr ? optimized_conv2d(ctx) : reference_conv2d(ctx);
}

void eval_reference(const OpContext& ctx) { is_16x8(ctx) ? conv2d_16x8(ctx) : reference_conv2d(ctx); }

}  // namespace

extern const KernelRegistration conv_2d_kernel{
    Kernel::kConv2D,
    InPlace::kWindow,
    validate,
    eval,
    eval_reference,
    TINYEDGE_KERNEL_TEXT("CONV_2D"),
    TINYEDGE_KERNEL_TEXT(
        "int8 input/output [N,H,W,C], int8 filter [O,KH,KW,I] per-tensor or per-channel, int32 "
        "bias [O]; or 16x8: int16 input/output with zero points 0, int64 (or int32) bias, optional; any "
        "stride, dilation, SAME/VALID padding; fused RELU/RELU6/RELU_N1_TO_1; KH*KW*I <= 32768")};

}  // namespace tinyedge::runtime::kernels
