// CONV_2D (int8) for the Cortex-M4 DSP extension, as a blocked GEMM: two output pixels x two
// output channels per pass (windows longer than kConvMaxDepth: one pixel x four channels, below),
// four int32 accumulators held in registers, SMLAD on sign-extended int16 pairs (two
// multiply-accumulates per instruction). The two pixels' windows are gathered into one
// interleaved int8 buffer (4 bytes of pixel 0, then 4 of pixel 1, per group of four taps), so one
// load brings both; each weight word is extended once and serves both pixels, each input word is
// extended once and serves both channels. Weights stay in the filter tensor's [O][KH*KW*I] order,
// or, when the compiler laid them out so (TemPacking::kBiasScalesBlockedFilter), in the order the
// loop reads them (dsp_blocked_filter.h: blocks of two channels, or of four for the one-pixel path).
// Taps outside the image read as the input zero point, which the bias the compiler folded
// (packed[oc] = bias + input_offset * sum(filter[oc])) cancels, as in conv_2d.cpp.
// Compiled on every target (the host tests run it through dsp.h's emulation); conv_2d.cpp runs
// it where __ARM_FEATURE_DSP is defined.
#pragma once
#include <cstring>

#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/dsp.h"
#include "node_firmware/runtime/kernels/dsp_fully_connected.h"
#include "node_firmware/runtime/kernels/dsp_output.h"
#include "node_firmware/runtime/kernels/op_context.h"

namespace tinyedge::runtime::dsp {

// Window length KH*KW*I the gather buffer holds for a pixel pair (768 bytes of stack, like
// conv_2d.cpp's patch). Longer windows, up to the whole buffer, are gathered one pixel at a time
// (resnet's 3x3x64 convolutions, 576 taps); longer still take conv_2d.cpp's other path.
inline constexpr int32_t kConvMaxDepth = 384;
inline constexpr int32_t kConvMaxDepthOnePixel = 2 * kConvMaxDepth;

// Copies pixel (iy0, ix0)'s window into every other group of four bytes of `dst` (the other
// pixel's go in between); taps outside the image read as `zp`.
inline void gather_window(const OpContext& ctx, const int8_t* image, int32_t iy0, int32_t ix0, int8_t* dst) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const auto zp = static_cast<int8_t>(-op.input_offset);
  if ((f.c & 3) == 0) {
    // Every tap starts a group of four: whole words, not bytes (the byte loop below was a quarter
    // of resnet's cycles).
    const uint32_t zp4 = 0x01010101u * static_cast<uint8_t>(zp);
    for (int32_t fy = 0; fy < f.h; ++fy) {
      const int32_t iy = iy0 + fy * op.dilation_h;
      for (int32_t fx = 0; fx < f.w; ++fx) {
        const int32_t ix = ix0 + fx * op.dilation_w;
        int8_t* const end = dst + 2 * f.c;
        if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) {
          for (; dst != end; dst += 8) std::memcpy(dst, &zp4, 4);
        } else {
          for (const int8_t* src = image + (iy * in.w + ix) * in.c; dst != end; dst += 8, src += 4) {
            std::memcpy(dst, src, 4);
          }
        }
      }
    }
    return;
  }
  int32_t k = 0;
  for (int32_t fy = 0; fy < f.h; ++fy) {
    const int32_t iy = iy0 + fy * op.dilation_h;
    for (int32_t fx = 0; fx < f.w; ++fx) {
      const int32_t ix = ix0 + fx * op.dilation_w;
      const bool outside = iy < 0 || iy >= in.h || ix < 0 || ix >= in.w;
      const int8_t* src = outside ? nullptr : image + (iy * in.w + ix) * in.c;
      for (int32_t c = 0; c < f.c; ++c, ++k) dst[(k >> 2) * 8 + (k & 3)] = outside ? zp : src[c];
    }
  }
}

// Same for a 1xN window wholly inside the image: one contiguous run of the input.
inline void gather_run(const int8_t* src, int32_t depth, int8_t* dst) {
  int32_t k = 0;
  for (; k + 4 <= depth; k += 4) std::memcpy(dst + k * 2, src + k, 4);
  for (; k < depth; ++k) dst[(k >> 2) * 8 + (k & 3)] = src[k];
}

// Accumulates rows wa and wb of the filter against both gathered pixels: acc = {a0, a1, b0, b1}.
TINYEDGE_DSP_INLINE void gemm_2x2(const int8_t* cols, const int8_t* wa, const int8_t* wb, int32_t depth,
                                  int32_t acc[4]) {
  int32_t a0 = acc[0], a1 = acc[1], b0 = acc[2], b1 = acc[3];
  const int32_t groups = depth >> 2;
#if defined(__ARM_FEATURE_DSP)
  // GCC at -Os spills the accumulators and cannot fold SXTB16's rotate: 20 instructions per 16
  // multiply-accumulates here against 36 from the C below (the loop is unrolled twice: its compare
  // and taken branch were 4 of about 27 cycles a group).
  if (groups > 0) {
    const int8_t* const end = cols + groups * 8;
    uint32_t x0e, x0o, x1e, x1o, v, t;
    // One group: 4 inputs of each of two pixels against 4 weights of each of two channels; written
    // once, run twice a pass.
#define TINYEDGE_GEMM_2X2_GROUP          \
  "ldrd %[x0o], %[x1o], [%[c]], #8\n\t"  \
  "sxtb16 %[x0e], %[x0o]\n\t"            \
  "sxtb16 %[x0o], %[x0o], ror #8\n\t"    \
  "sxtb16 %[x1e], %[x1o]\n\t"            \
  "sxtb16 %[x1o], %[x1o], ror #8\n\t"    \
  "ldr %[v], [%[wa]], #4\n\t"            \
  "sxtb16 %[t], %[v]\n\t"                \
  "sxtb16 %[v], %[v], ror #8\n\t"        \
  "smlad %[a0], %[x0e], %[t], %[a0]\n\t" \
  "smlad %[a1], %[x1e], %[t], %[a1]\n\t" \
  "smlad %[a0], %[x0o], %[v], %[a0]\n\t" \
  "smlad %[a1], %[x1o], %[v], %[a1]\n\t" \
  "ldr %[v], [%[wb]], #4\n\t"            \
  "sxtb16 %[t], %[v]\n\t"                \
  "sxtb16 %[v], %[v], ror #8\n\t"        \
  "smlad %[b0], %[x0e], %[t], %[b0]\n\t" \
  "smlad %[b1], %[x1e], %[t], %[b1]\n\t" \
  "smlad %[b0], %[x0o], %[v], %[b0]\n\t" \
  "smlad %[b1], %[x1o], %[v], %[b1]\n\t"
    asm volatile(
        // Two groups per pass: an odd count enters at the second (end - cols is 8 per group).
        "sub %[t], %[end], %[c]\n\t"
        "tst %[t], #8\n\t"
        "bne 2f\n\t"
        "1:\n\t" TINYEDGE_GEMM_2X2_GROUP "2:\n\t" TINYEDGE_GEMM_2X2_GROUP
        "cmp %[c], %[end]\n\t"
        "bne 1b"
        : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [c] "+r"(cols), [wa] "+r"(wa), [wb] "+r"(wb),
          [x0e] "=&r"(x0e), [x0o] "=&r"(x0o), [x1e] "=&r"(x1e), [x1o] "=&r"(x1o), [v] "=&r"(v), [t] "=&r"(t)
        : [end] "r"(end)
        : "cc", "memory");
#undef TINYEDGE_GEMM_2X2_GROUP
  }
#else
  for (int32_t g = 0; g < groups; ++g) {
    const uint32_t x0 = load32(cols);
    const uint32_t x1 = load32(cols + 4);
    cols += 8;
    const uint32_t x0e = sxtb16(x0), x0o = sxtb16_odd(x0);
    const uint32_t x1e = sxtb16(x1), x1o = sxtb16_odd(x1);
    const uint32_t va = load32(wa);
    wa += 4;
    uint32_t t = sxtb16(va);
    a0 = smlad(x0e, t, a0);
    a1 = smlad(x1e, t, a1);
    t = sxtb16_odd(va);
    a0 = smlad(x0o, t, a0);
    a1 = smlad(x1o, t, a1);
    const uint32_t vb = load32(wb);
    wb += 4;
    t = sxtb16(vb);
    b0 = smlad(x0e, t, b0);
    b1 = smlad(x1e, t, b1);
    t = sxtb16_odd(vb);
    b0 = smlad(x0o, t, b0);
    b1 = smlad(x1o, t, b1);
  }
#endif
  for (int32_t k = 0; k < (depth & 3); ++k) {  // the last taps of a window that is not a multiple of 4
    const int32_t x0 = cols[k], x1 = cols[k + 4];
    a0 += x0 * wa[k];
    a1 += x1 * wa[k];
    b0 += x0 * wb[k];
    b1 += x1 * wb[k];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = b0;
  acc[3] = b1;
}

// gemm_2x2 over a two-row block of a blocked filter (dsp_blocked_filter.h, `w` its first byte):
// the pair's words for a group of taps are adjacent.
TINYEDGE_DSP_INLINE void gemm_2x2_blocked(const int8_t* cols, const int8_t* w, int32_t depth, int32_t acc[4]) {
  int32_t a0 = acc[0], a1 = acc[1], b0 = acc[2], b1 = acc[3];
  const int32_t groups = depth >> 2;
  const int8_t* const tail = w + groups * 8;
#if defined(__ARM_FEATURE_DSP)
  // Four back-to-back loads a group (both pixels' input words, both channels' weight words): 5
  // cycles on the M4's pipelined loads against gemm_2x2's LDRD and two lone LDRs (7), one weight
  // pointer for the pair. 19 instructions, 21 cycles a group before the loop's 2.
  if (groups > 0) {
    const int8_t* const end = cols + groups * 8;
    uint32_t x0e, x0o, x1e, x1o, va, vb, t;
#define TINYEDGE_GEMM_2X2_BLOCKED_GROUP   \
  "ldr %[x1o], [%[c], #4]\n\t"            \
  "ldr %[vb], [%[w], #4]\n\t"             \
  "ldr %[x0o], [%[c]], #8\n\t"            \
  "ldr %[va], [%[w]], #8\n\t"             \
  "sxtb16 %[x0e], %[x0o]\n\t"             \
  "sxtb16 %[x0o], %[x0o], ror #8\n\t"     \
  "sxtb16 %[x1e], %[x1o]\n\t"             \
  "sxtb16 %[x1o], %[x1o], ror #8\n\t"     \
  "sxtb16 %[t], %[va]\n\t"                \
  "sxtb16 %[va], %[va], ror #8\n\t"       \
  "smlad %[a0], %[x0e], %[t], %[a0]\n\t"  \
  "smlad %[a1], %[x1e], %[t], %[a1]\n\t"  \
  "smlad %[a0], %[x0o], %[va], %[a0]\n\t" \
  "smlad %[a1], %[x1o], %[va], %[a1]\n\t" \
  "sxtb16 %[t], %[vb]\n\t"                \
  "sxtb16 %[vb], %[vb], ror #8\n\t"       \
  "smlad %[b0], %[x0e], %[t], %[b0]\n\t"  \
  "smlad %[b1], %[x1e], %[t], %[b1]\n\t"  \
  "smlad %[b0], %[x0o], %[vb], %[b0]\n\t" \
  "smlad %[b1], %[x1o], %[vb], %[b1]\n\t"
    asm volatile(
        // Two groups per pass, an odd count entering at the second, as in gemm_2x2.
        "sub %[t], %[end], %[c]\n\t"
        "tst %[t], #8\n\t"
        "bne 2f\n\t"
        "1:\n\t" TINYEDGE_GEMM_2X2_BLOCKED_GROUP "2:\n\t" TINYEDGE_GEMM_2X2_BLOCKED_GROUP
        "cmp %[c], %[end]\n\t"
        "bne 1b"
        : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [c] "+r"(cols), [w] "+r"(w), [x0e] "=&r"(x0e),
          [x0o] "=&r"(x0o), [x1e] "=&r"(x1e), [x1o] "=&r"(x1o), [va] "=&r"(va), [vb] "=&r"(vb), [t] "=&r"(t)
        : [end] "r"(end)
        : "cc", "memory");
#undef TINYEDGE_GEMM_2X2_BLOCKED_GROUP
  }
#else
  for (int32_t g = 0; g < groups; ++g, cols += 8, w += 8) {
    const uint32_t x0 = load32(cols), x1 = load32(cols + 4);
    const uint32_t x0e = sxtb16(x0), x0o = sxtb16_odd(x0);
    const uint32_t x1e = sxtb16(x1), x1o = sxtb16_odd(x1);
    const uint32_t va = load32(w), vb = load32(w + 4);
    a0 = smlad(x0o, sxtb16_odd(va), smlad(x0e, sxtb16(va), a0));
    a1 = smlad(x1o, sxtb16_odd(va), smlad(x1e, sxtb16(va), a1));
    b0 = smlad(x0o, sxtb16_odd(vb), smlad(x0e, sxtb16(vb), b0));
    b1 = smlad(x1o, sxtb16_odd(vb), smlad(x1e, sxtb16(vb), b1));
  }
#endif
  const int32_t left = depth & 3;
  for (int32_t k = 0; k < left; ++k) {
    const int32_t x0 = cols[k], x1 = cols[k + 4];
    a0 += x0 * tail[k];
    a1 += x1 * tail[k];
    b0 += x0 * tail[left + k];
    b1 += x1 * tail[left + k];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = b0;
  acc[3] = b1;
}

// All output channels of the pixel pair gathered in `cols`; d1 == nullptr for a lone last pixel.
inline void conv_pixel_pair(const OpContext& ctx, const uint32_t* scales, const int8_t* cols, int32_t depth, int8_t* d0,
                            int8_t* d1) {
  const int32_t channels = ctx.output_shape.c;
  const OutputRange range = output_range(ctx);
  const bool blocked = blocked_filter(ctx);
  for (int32_t oc = 0; oc < channels; oc += 2) {
    const int32_t ob = oc + 1 < channels ? oc + 1 : oc;  // an odd last channel is computed twice
    int32_t acc[4] = {ctx.packed[oc], ctx.packed[oc], ctx.packed[ob], ctx.packed[ob]};
    if (blocked && ob != oc) {
      gemm_2x2_blocked(cols, ctx.filter + oc * depth, depth, acc);  // the pair's block starts at row oc
    } else {  // [O][K] rows, or a blocked filter's odd last channel: a block of one row is that row
      gemm_2x2(cols, ctx.filter + oc * depth, ctx.filter + ob * depth, depth, acc);
    }
    const ChannelScale sa = channel_scale(ctx, scales, oc);
    d0[oc] = to_output(range, scale(sa, acc[0]));
    if (d1 != nullptr) d1[oc] = to_output(range, scale(sa, acc[1]));
    if (ob != oc) {
      const ChannelScale sb = channel_scale(ctx, scales, ob);
      d0[ob] = to_output(range, scale(sb, acc[2]));
      if (d1 != nullptr) d1[ob] = to_output(range, scale(sb, acc[3]));
    }
  }
}

// One pixel's window, contiguous in `dst` (the filter's [KH][KW][I] order); taps outside the
// image read as the input zero point.
inline void gather_window_contiguous(const OpContext& ctx, const int8_t* image, int32_t iy0, int32_t ix0, int8_t* dst) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  for (int32_t fy = 0; fy < f.h; ++fy) {
    const int32_t iy = iy0 + fy * op.dilation_h;
    for (int32_t fx = 0; fx < f.w; ++fx, dst += f.c) {
      const int32_t ix = ix0 + fx * op.dilation_w;
      if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) {
        std::memset(dst, -op.input_offset, static_cast<size_t>(f.c));
      } else {
        std::memcpy(dst, image + (iy * in.w + ix) * in.c, static_cast<size_t>(f.c));
      }
    }
  }
}

// All output channels of one pixel whose window is `x`, four per pass through the FC's SMLAD
// loop (each input word extended once for four channels): a pixel pair's window would not fit.
inline void conv_pixel_one(const OpContext& ctx, const uint32_t* scales, const int8_t* x, int32_t depth, int8_t* dst) {
  const int32_t channels = ctx.output_shape.c;
  const OutputRange range = output_range(ctx);
  const bool blocked = blocked_filter(ctx);
  for (int32_t oc = 0; oc < channels; oc += 4) {
    const int32_t rows = channels - oc < 4 ? channels - oc : 4;  // a short last block repeats row oc
    int32_t acc[4] = {ctx.packed[oc], ctx.packed[oc + (rows > 1)], ctx.packed[oc + 2 * (rows > 2)],
                      ctx.packed[oc + 3 * (rows > 3)]};
    if (blocked) {
      dot_rows_blocked(x, ctx.filter + oc * depth, depth, rows, acc);
    } else {
      dot_rows(x, ctx.filter + oc * depth, depth, rows, acc);
    }
    for (int32_t j = 0; j < rows; ++j)
      dst[oc + j] = to_output(range, scale(channel_scale(ctx, scales, oc + j), acc[j]));
  }
}

// Whether conv2d() below runs this op (else conv_2d.cpp's general path does).
inline bool conv2d_fits(const OpContext& ctx) {
  const Shape4& f = ctx.filter_shape;
  return f.h * f.w * f.c <= kConvMaxDepthOnePixel;
}

// The rows per block of a CONV_2D's blocked filter (dsp_blocked_filter.h) for a window of `depth`
// taps: the channel pairs of conv_pixel_pair, or the four channels of conv_pixel_one; 0 where the
// op takes conv_2d.cpp's general path (no blocked filter).
inline constexpr int32_t conv_block(int32_t depth) {
  return depth <= kConvMaxDepth ? 2 : (depth <= kConvMaxDepthOnePixel ? 4 : 0);
}

// Windows of kConvMaxDepth < KH*KW*I <= kConvMaxDepthOnePixel, one pixel at a time.
inline void conv2d_one_pixel(const OpContext& ctx, const uint32_t* scales, int8_t* patch) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const Shape4& out = ctx.output_shape;
  const int32_t depth = f.h * f.w * f.c;
  const int32_t span_y = (f.h - 1) * op.dilation_h;
  const int32_t span_x = (f.w - 1) * op.dilation_w;
  for (int32_t b = 0; b < out.n; ++b) {
    const int8_t* image = ctx.input + b * in.h * in.w * in.c;
    for (int32_t oy = 0; oy < out.h; ++oy) {
      const int32_t iy0 = oy * op.stride_h - op.pad_top;
      for (int32_t ox = 0; ox < out.w; ++ox) {
        const int32_t ix0 = ox * op.stride_w - op.pad_left;
        const bool interior = iy0 >= 0 && iy0 + span_y < in.h && ix0 >= 0 && ix0 + span_x < in.w;
        const int8_t* x = patch;
        if (interior && f.h == 1 && op.dilation_w == 1) {
          x = image + (iy0 * in.w + ix0) * in.c;  // a 1xN window inside the image is one run of the input
        } else {
          gather_window_contiguous(ctx, image, iy0, ix0, patch);
        }
        conv_pixel_one(ctx, scales, x, depth, ctx.output + ((b * out.h + oy) * out.w + ox) * out.c);
      }
    }
  }
}

inline void conv2d(const OpContext& ctx, const uint32_t* scales) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const Shape4& out = ctx.output_shape;
  const int32_t depth = f.h * f.w * f.c;
  const int32_t span_y = (f.h - 1) * op.dilation_h;
  const int32_t span_x = (f.w - 1) * op.dilation_w;
  alignas(4) int8_t cols[2 * kConvMaxDepth + 8];
  if (depth > kConvMaxDepth) return conv2d_one_pixel(ctx, scales, cols);
  const int32_t pixels = out.n * out.h * out.w;
  // Pixel p -> its window's gathered bytes at cols + 4 * (p & 1).
  auto gather = [&](int32_t p, int8_t* dst) {
    const int32_t ox = p % out.w, oy = (p / out.w) % out.h, b = p / (out.w * out.h);
    const int8_t* image = ctx.input + b * in.h * in.w * in.c;
    const int32_t iy0 = oy * op.stride_h - op.pad_top;
    const int32_t ix0 = ox * op.stride_w - op.pad_left;
    const bool interior = iy0 >= 0 && iy0 + span_y < in.h && ix0 >= 0 && ix0 + span_x < in.w;
    if (interior && f.h == 1 && op.dilation_w == 1) {
      gather_run(image + (iy0 * in.w + ix0) * in.c, depth, dst);
    } else {
      gather_window(ctx, image, iy0, ix0, dst);
    }
  };
  for (int32_t p = 0; p < pixels; p += 2) {
    gather(p, cols);
    int8_t* d1 = nullptr;
    if (p + 1 < pixels) {
      gather(p + 1, cols + 4);
      d1 = ctx.output + (p + 1) * out.c;
    } else {
      gather(p, cols + 4);
    }
    conv_pixel_pair(ctx, scales, cols, depth, ctx.output + p * out.c, d1);
  }
}

}  // namespace tinyedge::runtime::dsp
