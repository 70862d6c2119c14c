// DEPTHWISE_CONV_2D, int8 (TFLite reference_integer_ops::DepthwiseConvPerChannel semantics);
// the optimised version adds the compiler's folded bias like conv_2d.cpp.
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/basic_validate.h"
#include "node_firmware/runtime/kernels/conv_16x8.h"
#include "node_firmware/runtime/kernels/conv_validate.h"
#include "node_firmware/runtime/kernels/dsp_depthwise.h"
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
  if (in.n != out.n || f.n != 1 || f.c != out.c || p->depth_multiplier < 1 || out.c != in.c * p->depth_multiplier) {
    return Status::kBadShape;
  }
  if (tb != nullptr && (tb->rank != 1 || static_cast<int32_t>(tb->dims[0]) != out.c)) return Status::kBadShape;
  if (int64_t{f.h} * f.w > kMaxDotLength) return Status::kTooLarge;
  if (p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1) return Status::kBadParams;
  return quant_16x8(v, static_cast<uint32_t>(out.c));
}

Status validate(const ValidateContext& v) {
  return is_16x8(v) ? validate_16x8(v) : validate_int8_conv</*depthwise=*/true>(v);
}

void reference_depthwise(const OpContext& ctx) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const Shape4& out = ctx.output_shape;
  const int32_t dm = op.depth_multiplier;
  const bool per_channel = ctx.quant_count > 1;
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

using optimized::requantise_run;

// 16x8: TFLite's DepthwiseConvPerChannel for int16 input (zero point 0).
template <class Acc>
void depthwise_16x8(const OpContext& ctx) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const Shape4& out = ctx.output_shape;
  const int32_t dm = op.depth_multiplier;
  const auto* input = reinterpret_cast<const int16_t*>(ctx.input);
  auto* output = reinterpret_cast<int16_t*>(ctx.output);
  for (int32_t b = 0; b < out.n; ++b) {
    for (int32_t oy = 0; oy < out.h; ++oy) {
      const int32_t in_y0 = oy * op.stride_h - op.pad_top;
      for (int32_t ox = 0; ox < out.w; ++ox) {
        const int32_t in_x0 = ox * op.stride_w - op.pad_left;
        for (int32_t oc = 0; oc < out.c; ++oc) {
          const int32_t ic = oc / dm;
          Acc acc = 0;
          for (int32_t fy = 0; fy < f.h; ++fy) {
            const int32_t iy = in_y0 + fy * op.dilation_h;
            if (iy < 0 || iy >= in.h) continue;
            for (int32_t fx = 0; fx < f.w; ++fx) {
              const int32_t ix = in_x0 + fx * op.dilation_w;
              if (ix < 0 || ix >= in.w) continue;
              acc = accumulate(
                  acc, input[((b * in.h + iy) * in.w + ix) * in.c + ic] * ctx.filter[(fy * f.w + fx) * f.c + oc]);
            }
          }
          output[((b * out.h + oy) * out.w + ox) * out.c + oc] = output_16x8(acc, ctx, oc);
        }
      }
    }
  }
}

void depthwise_16x8(const OpContext& ctx) {
  bias_is_64(ctx) ? depthwise_16x8<int64_t>(ctx) : depthwise_16x8<int32_t>(ctx);
}

__attribute__((noinline)) void optimized_depthwise(const OpContext& ctx) {
  constexpr int32_t kBlock = 64;  // channels per pass: int32 accumulators on the stack
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
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

void eval(const OpContext& ctx) {
  if (is_16x8(ctx)) return depthwise_16x8(ctx);
#if defined(__ARM_FEATURE_DSP)
  // Dispatched here, not inside optimized_depthwise: its scratch arrays would sit on the stack too.
  if (ctx.packed != nullptr) {
    if (dsp::depthwise_fits(ctx)) return dsp::depthwise(ctx, dsp::packed_scales(ctx));
  }
#endif
  ctx.packed != nullptr ? optimized_depthwise(ctx) : reference_depthwise(ctx);
}

void eval_reference(const OpContext& ctx) { is_16x8(ctx) ? depthwise_16x8(ctx) : reference_depthwise(ctx); }

}  // namespace

extern const KernelRegistration depthwise_conv_2d_kernel{
    Kernel::kDepthwiseConv2D,
    InPlace::kWindow,
    validate,
    eval,
    eval_reference,
    TINYEDGE_KERNEL_TEXT("DEPTHWISE_CONV_2D"),
    TINYEDGE_KERNEL_TEXT(
        "int8 input/output [N,H,W,C], int8 filter [1,KH,KW,C*M] per-tensor or per-channel, int32 "
        "bias; or 16x8: int16 input/output with zero points 0, int64 (or int32) bias, optional; any depth "
        "multiplier, stride, dilation, SAME/VALID; fused RELU/RELU6/RELU_N1_TO_1")};

}  // namespace tinyedge::runtime::kernels
