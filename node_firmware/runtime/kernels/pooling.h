// The reference pooling loop shared by AVERAGE_POOL_2D and MAX_POOL_2D (TFLite int8 reference
// semantics), and their common validation.
#pragma once
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/basic_validate.h"

namespace tinyedge::runtime::kernels::pooling {

inline Status validate(const ValidateContext& v) {
  Status status;
  const BasicOpParams* p = basic_int8_op(v, 1, status);
  if (p == nullptr) return status;
  const TemTensor& tin = *v.input(0);
  const TemTensor& tout = *v.output(0);
  const Shape4 in = shape_of(tin);
  const Shape4 out = shape_of(tout);
  if (tin.rank != 4 || tout.rank != 4 || in.n != out.n || in.c != out.c) return Status::kBadShape;
  if (p->stride_h < 1 || p->stride_w < 1 || p->filter_h < 1 || p->filter_w < 1) return Status::kBadParams;
  return v.op->packed_bytes == 0 && v.op->quant_count == 0 && p->packing == 0 ? Status::kOk : Status::kBadParams;
}

template <bool kAverage>
inline void pool(const OpContext& ctx) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& out = ctx.output_shape;
  for (int32_t b = 0; b < out.n; ++b) {
    for (int32_t oy = 0; oy < out.h; ++oy) {
      for (int32_t ox = 0; ox < out.w; ++ox) {
        const int32_t y0 = oy * op.stride_h - op.pad_top;
        const int32_t x0 = ox * op.stride_w - op.pad_left;
        const int32_t fy_start = y0 < 0 ? -y0 : 0;
        const int32_t fx_start = x0 < 0 ? -x0 : 0;
        const int32_t fy_end = (in.h - y0) < op.filter_h ? (in.h - y0) : op.filter_h;
        const int32_t fx_end = (in.w - x0) < op.filter_w ? (in.w - x0) : op.filter_w;
        for (int32_t c = 0; c < out.c; ++c) {
          int32_t acc = kAverage ? 0 : -128;
          int32_t count = 0;
          for (int32_t fy = fy_start; fy < fy_end; ++fy) {
            for (int32_t fx = fx_start; fx < fx_end; ++fx) {
              const int32_t v = ctx.input[((b * in.h + y0 + fy) * in.w + x0 + fx) * in.c + c];
              if (kAverage) {
                acc += v;
              } else if (v > acc) {
                acc = v;
              }
              ++count;
            }
          }
          if (kAverage) {
            // TFLite: round half away from zero; an empty window (impossible once validated) gives 0.
            if (count == 0) {
              acc = 0;
            } else {
              acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
            }
          }
          ctx.output[((b * out.h + oy) * out.w + ox) * out.c + c] = fx::clamp_int8(acc, op.act_min, op.act_max);
        }
      }
    }
  }
}

}  // namespace tinyedge::runtime::kernels::pooling
