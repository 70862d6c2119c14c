// Reference convolutions (TFLite reference_integer_ops::ConvPerChannel / DepthwiseConvPerChannel).
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/reference.h"

namespace tinyedge::runtime::reference {

void conv2d(const OpContext& ctx) {
  const TemOp& op = *ctx.op;
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const Shape4& out = ctx.output_shape;
  const bool per_channel = op.quant_count > 1;
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
              const int8_t* w = ctx.filter + ((oc * f.h + fy) * f.w + fx) * f.c;
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

void depthwise_conv2d(const OpContext& ctx) {
  const TemOp& op = *ctx.op;
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const Shape4& out = ctx.output_shape;
  const int32_t dm = op.depth_multiplier;
  const bool per_channel = op.quant_count > 1;
  for (int32_t b = 0; b < out.n; ++b) {
    for (int32_t oy = 0; oy < out.h; ++oy) {
      const int32_t in_y0 = oy * op.stride_h - op.pad_top;
      for (int32_t ox = 0; ox < out.w; ++ox) {
        const int32_t in_x0 = ox * op.stride_w - op.pad_left;
        for (int32_t ic = 0; ic < in.c; ++ic) {
          for (int32_t m = 0; m < dm; ++m) {
            const int32_t oc = ic * dm + m;
            int32_t acc = 0;
            for (int32_t fy = 0; fy < f.h; ++fy) {
              const int32_t iy = in_y0 + fy * op.dilation_h;
              if (iy < 0 || iy >= in.h) continue;
              for (int32_t fx = 0; fx < f.w; ++fx) {
                const int32_t ix = in_x0 + fx * op.dilation_w;
                if (ix < 0 || ix >= in.w) continue;
                const int32_t x = ctx.input[((b * in.h + iy) * in.w + ix) * in.c + ic];
                const int32_t w = ctx.filter[(fy * f.w + fx) * f.c + oc];
                acc += (x + op.input_offset) * w;
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
}

}  // namespace tinyedge::runtime::reference
