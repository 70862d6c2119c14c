// AVERAGE_POOL_2D, int8: the reference loop (pooling.h) and a channel-blocked optimised one.
#include "node_firmware/runtime/kernels/pooling.h"

namespace tinyedge::runtime::kernels {
namespace {

void reference_average_pool(const OpContext& ctx) { pooling::pool<true>(ctx); }

void optimized_average_pool(const OpContext& ctx) {
  constexpr int32_t kBlock = 64;
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
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

}  // namespace

extern const KernelRegistration average_pool_2d_kernel{
    Kernel::kAveragePool2D,
    InPlace::kWindow,
    pooling::validate,
    optimized_average_pool,
    reference_average_pool,
    TINYEDGE_KERNEL_TEXT("AVERAGE_POOL_2D"),
    TINYEDGE_KERNEL_TEXT("int8 [N,H,W,C] in and out with the same quantisation; filter and stride 1..255, "
                         "SAME/VALID; fused RELU/RELU6/RELU_N1_TO_1")};

}  // namespace tinyedge::runtime::kernels
