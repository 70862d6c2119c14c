// DEPTHWISE_CONV_2D (int8, depth multiplier 1) for the Cortex-M4 DSP extension: four channels
// per pass, one word load of input and of weights per tap, SXTB16 splitting each into the even
// and odd channels and SMLABB/SMLATT accumulating each channel in its own register. Windows wholly
// inside the image walk the taps with no bounds checks (the usual 3x3 case); taps outside the
// image read as the input zero point, cancelled by the folded bias (see conv_2d.cpp).
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

inline void depthwise(const OpContext& ctx) {
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
  for (int32_t b = 0; b < out.n; ++b) {
    const int8_t* image = ctx.input + b * in.h * in.w * in.c;
    for (int32_t oy = 0; oy < out.h; ++oy) {
      const int32_t iy0 = oy * op.stride_h - op.pad_top;
      for (int32_t ox = 0; ox < out.w; ++ox) {
        const int32_t ix0 = ox * op.stride_w - op.pad_left;
        int8_t* dst = ctx.output + ((b * out.h + oy) * out.w + ox) * channels;
        const bool interior = iy0 >= 0 && iy0 + span_y < in.h && ix0 >= 0 && ix0 + span_x < in.w;
        int32_t c = 0;
        for (; c + 4 <= channels; c += 4) {
          Quad a{ctx.packed[c], ctx.packed[c + 1], ctx.packed[c + 2], ctx.packed[c + 3]};
          const int8_t* w = ctx.filter + c;
          if (interior) {
            const int8_t* row = image + (iy0 * in.w + ix0) * in.c + c;
            for (int32_t fy = 0; fy < f.h; ++fy, row += row_step) {
              const int8_t* x = row;
              for (int32_t fx = 0; fx < f.w; ++fx, x += col_step, w += channels) tap4(load32(x), load32(w), a);
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
          dst[c] = to_output(range, scale(channel_scale(ctx, c), a.c0));
          dst[c + 1] = to_output(range, scale(channel_scale(ctx, c + 1), a.c1));
          dst[c + 2] = to_output(range, scale(channel_scale(ctx, c + 2), a.c2));
          dst[c + 3] = to_output(range, scale(channel_scale(ctx, c + 3), a.c3));
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
          dst[c] = to_output(range, scale(channel_scale(ctx, c), acc));
        }
      }
    }
  }
}

}  // namespace tinyedge::runtime::dsp
