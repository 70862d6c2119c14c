// DEPTHWISE_CONV_2D (int8, depth multiplier 1) for the Cortex-M4 DSP extension: four channels
// per pass, one word load of input and of weights per tap, SXTB16 splitting each into the even
// and odd channels and SMLABB/SMLATT accumulating each channel in its own register. Windows wholly
// inside the image walk the taps with no bounds checks (the usual 3x3 case); windows crossing the
// edge read their taps through a table of offsets, the taps outside the image from a row of input
// zero points, cancelled by the folded bias (see conv_2d.cpp).
// Compiled on every target (the host tests run it through dsp.h's emulation);
// depthwise_conv_2d.cpp runs it where __ARM_FEATURE_DSP is defined.
#pragma once
#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/dsp.h"
#include "node_firmware/runtime/kernels/dsp_output.h"
#include "node_firmware/runtime/kernels/op_context.h"

namespace tinyedge::runtime::dsp {

inline bool depthwise_fits(const OpContext& ctx) { return ctx.params_as<BasicOpParams>().depth_multiplier == 1; }

struct Quad {
  int32_t c0, c1, c2, c3;
};

TINYEDGE_DSP_INLINE void tap4(uint32_t xv, uint32_t wv, Quad& a) {
  const uint32_t xe = sxtb16(xv), we = sxtb16(wv);
  a.c0 = smlabb(xe, we, a.c0);
  a.c2 = smlatt(xe, we, a.c2);
  const uint32_t xo = sxtb16_odd(xv), wo = sxtb16_odd(wv);
  a.c1 = smlabb(xo, wo, a.c1);
  a.c3 = smlatt(xo, wo, a.c3);
}

// One filter row of taps for four channels: x steps by col_step, w by channels (advanced past the row).
TINYEDGE_DSP_INLINE void taps_row(const int8_t* x, const int8_t*& w, int32_t taps, int32_t col_step, int32_t channels,
                                  Quad& a) {
#if defined(__ARM_FEATURE_DSP)
  // GCC at -Os spills the four accumulators around each tap (about 30 instructions); this is 14.
  uint32_t xv, wv, t, u;
  asm volatile(
      "1:\n\t"
      "ldr %[xv], [%[x]]\n\t"
      "add %[x], %[x], %[cs]\n\t"
      "ldr %[wv], [%[w]]\n\t"
      "add %[w], %[w], %[ch]\n\t"
      "sxtb16 %[t], %[xv]\n\t"
      "sxtb16 %[u], %[wv]\n\t"
      "smlabb %[a0], %[t], %[u], %[a0]\n\t"
      "smlatt %[a2], %[t], %[u], %[a2]\n\t"
      "sxtb16 %[t], %[xv], ror #8\n\t"
      "sxtb16 %[u], %[wv], ror #8\n\t"
      "smlabb %[a1], %[t], %[u], %[a1]\n\t"
      "smlatt %[a3], %[t], %[u], %[a3]\n\t"
      "subs %[n], %[n], #1\n\t"
      "bne 1b"
      : [a0] "+r"(a.c0), [a1] "+r"(a.c1), [a2] "+r"(a.c2), [a3] "+r"(a.c3), [x] "+r"(x), [w] "+r"(w), [n] "+r"(taps),
        [xv] "=&r"(xv), [wv] "=&r"(wv), [t] "=&r"(t), [u] "=&r"(u)
      : [cs] "r"(col_step), [ch] "r"(channels)
      : "cc", "memory");
#else
  for (int32_t fx = 0; fx < taps; ++fx, x += col_step, w += channels) tap4(load32(x), load32(w), a);
#endif
}

// A 3x3 window wholly inside the image (the models' usual depthwise filter), four channels: the
// nine taps in straight line, each addressed from the window's corner (x + col_step, x + 2 *
// col_step; w likewise by channels), so no pointer steps or loop per tap: 99 instructions against
// 126 through taps_row's loop. w is advanced past the filter.
TINYEDGE_DSP_INLINE void taps_3x3(const int8_t* x, const int8_t*& w, int32_t col_step, int32_t row_step,
                                  int32_t channels, Quad& a) {
#if defined(__ARM_FEATURE_DSP)
  uint32_t xv, wv, t, u;
#define TINYEDGE_DSP_TAP4(x_addr, w_addr) \
  "ldr %[xv], " x_addr                    \
  "\n\t"                                  \
  "ldr %[wv], " w_addr                    \
  "\n\t"                                  \
  "sxtb16 %[t], %[xv]\n\t"                \
  "sxtb16 %[u], %[wv]\n\t"                \
  "smlabb %[a0], %[t], %[u], %[a0]\n\t"   \
  "smlatt %[a2], %[t], %[u], %[a2]\n\t"   \
  "sxtb16 %[t], %[xv], ror #8\n\t"        \
  "sxtb16 %[u], %[wv], ror #8\n\t"        \
  "smlabb %[a1], %[t], %[u], %[a1]\n\t"   \
  "smlatt %[a3], %[t], %[u], %[a3]\n\t"
#define TINYEDGE_DSP_ROW3                                             \
  TINYEDGE_DSP_TAP4("[%[x]]", "[%[w]]")                               \
  TINYEDGE_DSP_TAP4("[%[x], %[cs]]", "[%[w], %[ch]]")                 \
  TINYEDGE_DSP_TAP4("[%[x], %[cs], lsl #1]", "[%[w], %[ch], lsl #1]") \
  "add %[x], %[x], %[rs]\n\t"                                         \
  "add %[w], %[w], %[ch], lsl #1\n\t"                                 \
  "add %[w], %[w], %[ch]\n\t"
  asm volatile(TINYEDGE_DSP_ROW3 TINYEDGE_DSP_ROW3 TINYEDGE_DSP_ROW3
               : [a0] "+r"(a.c0), [a1] "+r"(a.c1), [a2] "+r"(a.c2), [a3] "+r"(a.c3), [x] "+r"(x), [w] "+r"(w),
                 [xv] "=&r"(xv), [wv] "=&r"(wv), [t] "=&r"(t), [u] "=&r"(u)
               : [cs] "r"(col_step), [ch] "r"(channels), [rs] "r"(row_step)
               : "memory");
#undef TINYEDGE_DSP_ROW3
#undef TINYEDGE_DSP_TAP4
#else
  for (int32_t fy = 0; fy < 3; ++fy, x += row_step) taps_row(x, w, 3, col_step, channels, a);
#endif
}

// A window that crosses the image's edge, four channels: its taps listed as byte offsets from
// `base` (the image at this channel group), each either a pixel inside the image or a row of
// zero points standing in for the padding, so the taps run as one loop without bounds checks
// (the per-tap checks took about 35 instructions a tap: 45 % of kws's 25x5 windows cross the edge).
// w is advanced past the filter.
TINYEDGE_DSP_INLINE void taps_table(const int8_t* base, const intptr_t* offsets, int32_t taps, const int8_t*& w,
                                    int32_t channels, Quad& a) {
#if defined(__ARM_FEATURE_DSP)
  uint32_t xv, wv, t, u;
  asm volatile(
      "1:\n\t"
      "ldr %[xv], [%[o]], #4\n\t"
      "ldr %[xv], [%[b], %[xv]]\n\t"
      "ldr %[wv], [%[w]]\n\t"
      "add %[w], %[w], %[ch]\n\t"
      "sxtb16 %[t], %[xv]\n\t"
      "sxtb16 %[u], %[wv]\n\t"
      "smlabb %[a0], %[t], %[u], %[a0]\n\t"
      "smlatt %[a2], %[t], %[u], %[a2]\n\t"
      "sxtb16 %[t], %[xv], ror #8\n\t"
      "sxtb16 %[u], %[wv], ror #8\n\t"
      "smlabb %[a1], %[t], %[u], %[a1]\n\t"
      "smlatt %[a3], %[t], %[u], %[a3]\n\t"
      "subs %[n], %[n], #1\n\t"
      "bne 1b"
      : [a0] "+r"(a.c0), [a1] "+r"(a.c1), [a2] "+r"(a.c2), [a3] "+r"(a.c3), [o] "+r"(offsets), [w] "+r"(w),
        [n] "+r"(taps), [xv] "=&r"(xv), [wv] "=&r"(wv), [t] "=&r"(t), [u] "=&r"(u)
      : [b] "r"(base), [ch] "r"(channels)
      : "cc", "memory");
#else
  for (int32_t i = 0; i < taps; ++i, w += channels) {
    tap4(load32(reinterpret_cast<const int8_t*>(reinterpret_cast<uintptr_t>(base) + static_cast<uintptr_t>(offsets[i]))),
         load32(w), a);
  }
#endif
}

// taps_table for a 3x3 filter: the nine taps in straight line like taps_3x3 (the table read at
// fixed offsets, the weights addressed from the filter row's start): 105 instructions a window
// against 126 through taps_table's loop.
TINYEDGE_DSP_INLINE void taps_table_3x3(const int8_t* base, const intptr_t* offsets, const int8_t*& w,
                                        int32_t channels, Quad& a) {
#if defined(__ARM_FEATURE_DSP)
  static_assert(sizeof(intptr_t) == 4, "the table is read at 4-byte steps");
  uint32_t xv, wv, t, u;
#define TINYEDGE_DSP_TAP4(entry, w_addr)  \
  "ldr %[xv], [%[o], #" entry             \
  "]\n\t"                                 \
  "ldr %[xv], [%[b], %[xv]]\n\t"          \
  "ldr %[wv], " w_addr                    \
  "\n\t"                                  \
  "sxtb16 %[t], %[xv]\n\t"                \
  "sxtb16 %[u], %[wv]\n\t"                \
  "smlabb %[a0], %[t], %[u], %[a0]\n\t"   \
  "smlatt %[a2], %[t], %[u], %[a2]\n\t"   \
  "sxtb16 %[t], %[xv], ror #8\n\t"        \
  "sxtb16 %[u], %[wv], ror #8\n\t"        \
  "smlabb %[a1], %[t], %[u], %[a1]\n\t"   \
  "smlatt %[a3], %[t], %[u], %[a3]\n\t"
#define TINYEDGE_DSP_ROW3(e0, e1, e2)                           \
  TINYEDGE_DSP_TAP4(e0, "[%[w]]")                               \
  TINYEDGE_DSP_TAP4(e1, "[%[w], %[ch]]")                        \
  TINYEDGE_DSP_TAP4(e2, "[%[w], %[ch], lsl #1]")                \
  "add %[w], %[w], %[ch], lsl #1\n\t"                           \
  "add %[w], %[w], %[ch]\n\t"
  asm volatile(TINYEDGE_DSP_ROW3("0", "4", "8") TINYEDGE_DSP_ROW3("12", "16", "20") TINYEDGE_DSP_ROW3("24", "28", "32")
               : [a0] "+r"(a.c0), [a1] "+r"(a.c1), [a2] "+r"(a.c2), [a3] "+r"(a.c3), [w] "+r"(w), [xv] "=&r"(xv),
                 [wv] "=&r"(wv), [t] "=&r"(t), [u] "=&r"(u)
               : [b] "r"(base), [o] "r"(offsets), [ch] "r"(channels)
               : "memory");
#undef TINYEDGE_DSP_ROW3
#undef TINYEDGE_DSP_TAP4
#else
  taps_table(base, offsets, 9, w, channels, a);
#endif
}

// The edge windows' tap tables hold up to a 5x5 filter and read padding from a stack row of
// zero points as long as the channels; other edge windows take the per-tap bounds checks. The two
// arrays bring depthwise()'s frame on the M4 from 152 B to 520 B (-fstack-usage), below the 880 B
// of optimized_depthwise beside it (which runs for depth multipliers above 1).
constexpr int32_t kMaxTableTaps = 25;
constexpr int32_t kMaxZeroPointRow = 256;

// to_output when the activation clamps nowhere inside int8 (no activation, or RELU onto a zero
// point of -128: kws's and vww's depthwise outputs): one SSAT instead of two compares and branches.
TINYEDGE_DSP_INLINE int8_t saturate_output(const OutputRange& r, int32_t scaled) {
  const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(scaled) + static_cast<uint32_t>(r.zero_point));
#if defined(__ARM_FEATURE_DSP)
  return static_cast<int8_t>(__ssat(v, 8));
#else
  return static_cast<int8_t>(v < -128 ? -128 : (v > 127 ? 127 : v));
#endif
}

// The four channels of a quad written to dst[0..3]. The branches are per quad, not per channel
// (with the per-channel branches GCC put the packed-scales path out of line: two taken branches a
// channel); scales == nullptr (older .tem files) works the constants out from the quant table.
TINYEDGE_DSP_INLINE void store_quad(const OpContext& ctx, const uint32_t* scales, int32_t c, const Quad& a,
                                    const OutputRange& range, bool full_range, int8_t* dst) {
  if (__builtin_expect(scales != nullptr, 1)) {
    const uint32_t* s = scales + 2 * c;
    const int32_t v0 = scale(packed_channel_scale(s), a.c0), v1 = scale(packed_channel_scale(s + 2), a.c1);
    const int32_t v2 = scale(packed_channel_scale(s + 4), a.c2), v3 = scale(packed_channel_scale(s + 6), a.c3);
    if (full_range) {
      dst[0] = saturate_output(range, v0);
      dst[1] = saturate_output(range, v1);
      dst[2] = saturate_output(range, v2);
      dst[3] = saturate_output(range, v3);
    } else {
      dst[0] = to_output(range, v0);
      dst[1] = to_output(range, v1);
      dst[2] = to_output(range, v2);
      dst[3] = to_output(range, v3);
    }
    return;
  }
  dst[0] = to_output(range, scale(channel_scale(ctx, c), a.c0));
  dst[1] = to_output(range, scale(channel_scale(ctx, c + 1), a.c1));
  dst[2] = to_output(range, scale(channel_scale(ctx, c + 2), a.c2));
  dst[3] = to_output(range, scale(channel_scale(ctx, c + 3), a.c3));
}

inline void depthwise(const OpContext& ctx, const uint32_t* scales) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const Shape4& out = ctx.output_shape;
  const int32_t channels = out.c;
  const int32_t zp = -op.input_offset;
  const uint32_t zp4 = (static_cast<uint32_t>(zp) & 0xFF) * 0x01010101u;
  const int32_t span_y = (f.h - 1) * op.dilation_h;
  const int32_t span_x = (f.w - 1) * op.dilation_w;
  const int32_t row_step = op.dilation_h * in.w * in.c;  // next filter row, same column
  const int32_t col_step = op.dilation_w * in.c;
  const OutputRange range = output_range(ctx);
  const bool full_range = range.lo <= -128 && range.hi >= 127;
  const bool table_edges = f.h * f.w <= kMaxTableTaps && channels <= kMaxZeroPointRow;
  int8_t zero_points[kMaxZeroPointRow];
  intptr_t offsets[kMaxTableTaps];
  if (table_edges) {
    for (int32_t c = 0; c < channels; ++c) zero_points[c] = static_cast<int8_t>(zp);
  }
  for (int32_t b = 0; b < out.n; ++b) {
    const int8_t* image = ctx.input + b * in.h * in.w * in.c;
    for (int32_t oy = 0; oy < out.h; ++oy) {
      const int32_t iy0 = oy * op.stride_h - op.pad_top;
      for (int32_t ox = 0; ox < out.w; ++ox) {
        const int32_t ix0 = ox * op.stride_w - op.pad_left;
        int8_t* dst = ctx.output + ((b * out.h + oy) * out.w + ox) * channels;
        const bool interior = iy0 >= 0 && iy0 + span_y < in.h && ix0 >= 0 && ix0 + span_x < in.w;
        if (!interior && table_edges) {
          // Offsets from the image (pointer arithmetic through uintptr_t: zero_points is another array).
          const intptr_t padding = static_cast<intptr_t>(reinterpret_cast<uintptr_t>(zero_points) -
                                                         reinterpret_cast<uintptr_t>(image));
          intptr_t* o = offsets;
          for (int32_t fy = 0; fy < f.h; ++fy) {
            const int32_t iy = iy0 + fy * op.dilation_h;
            for (int32_t fx = 0; fx < f.w; ++fx) {
              const int32_t ix = ix0 + fx * op.dilation_w;
              const bool outside = iy < 0 || iy >= in.h || ix < 0 || ix >= in.w;
              *o++ = outside ? padding : static_cast<intptr_t>((iy * in.w + ix) * in.c);
            }
          }
        }
        int32_t c = 0;
        for (; c + 4 <= channels; c += 4) {
          Quad a{ctx.packed[c], ctx.packed[c + 1], ctx.packed[c + 2], ctx.packed[c + 3]};
          const int8_t* w = ctx.filter + c;
          if (interior) {
            const int8_t* row = image + (iy0 * in.w + ix0) * in.c + c;
            if (f.h == 3 && f.w == 3) {
              taps_3x3(row, w, col_step, row_step, channels, a);
            } else {
              for (int32_t fy = 0; fy < f.h; ++fy, row += row_step) taps_row(row, w, f.w, col_step, channels, a);
            }
          } else if (table_edges) {
            if (f.h == 3 && f.w == 3) {
              taps_table_3x3(image + c, offsets, w, channels, a);
            } else {
              taps_table(image + c, offsets, f.h * f.w, w, channels, a);
            }
          } else {
            for (int32_t fy = 0; fy < f.h; ++fy) {
              const int32_t iy = iy0 + fy * op.dilation_h;
              for (int32_t fx = 0; fx < f.w; ++fx, w += channels) {
                const int32_t ix = ix0 + fx * op.dilation_w;
                const bool outside = iy < 0 || iy >= in.h || ix < 0 || ix >= in.w;
                tap4(outside ? zp4 : load32(image + (iy * in.w + ix) * in.c + c), load32(w), a);
              }
            }
          }
          store_quad(ctx, scales, c, a, range, full_range, dst + c);
        }
        for (; c < channels; ++c) {  // fewer than four channels left
          int32_t acc = ctx.packed[c];
          for (int32_t fy = 0; fy < f.h; ++fy) {
            const int32_t iy = iy0 + fy * op.dilation_h;
            for (int32_t fx = 0; fx < f.w; ++fx) {
              const int32_t ix = ix0 + fx * op.dilation_w;
              const bool outside = iy < 0 || iy >= in.h || ix < 0 || ix >= in.w;
              const int32_t x = outside ? zp : image[(iy * in.w + ix) * in.c + c];
              acc = add_wrap(acc, static_cast<uint32_t>(x * ctx.filter[(fy * f.w + fx) * channels + c]));
            }
          }
          dst[c] = to_output(range, scale(channel_scale(ctx, scales, c), acc));
        }
      }
    }
  }
}

}  // namespace tinyedge::runtime::dsp
