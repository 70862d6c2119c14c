// Reference fully connected, pools, add and softmax (TFLite int8 reference semantics).
#include <limits>

#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/reference.h"

namespace tinyedge::runtime::reference {

void fully_connected(const OpContext& ctx) {
  const TemOp& op = *ctx.op;
  const int32_t units = ctx.filter_shape.n;
  const int32_t depth = ctx.filter_shape.c;
  const int32_t batches = ctx.output_shape.elements() / units;
  const bool per_channel = op.quant_count > 1;
  for (int32_t b = 0; b < batches; ++b) {
    for (int32_t u = 0; u < units; ++u) {
      int32_t acc = 0;
      for (int32_t d = 0; d < depth; ++d) {
        acc += (ctx.input[b * depth + d] + op.input_offset) * ctx.filter[u * depth + d];
      }
      acc = fx::wrap_add(acc, ctx.bias[u]);
      const int q = per_channel ? u : 0;
      acc = fx::multiply_by_quantized_multiplier(acc, ctx.multipliers[q], ctx.shifts[q]);
      acc = fx::wrap_add(acc, op.output_offset);
      ctx.output[b * units + u] = fx::clamp_int8(acc, op.act_min, op.act_max);
    }
  }
}

namespace {

template <bool kAverage>
void pool(const OpContext& ctx) {
  const TemOp& op = *ctx.op;
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

}  // namespace

void average_pool2d(const OpContext& ctx) { pool<true>(ctx); }
void max_pool2d(const OpContext& ctx) { pool<false>(ctx); }

void add(const OpContext& ctx) {
  const TemOp& op = *ctx.op;
  const int32_t left_shift = op.extra[0];
  const int32_t n = ctx.output_shape.elements();
  for (int32_t i = 0; i < n; ++i) {
    const int32_t a = (ctx.input[i] + op.input_offset) * (1 << left_shift);
    const int32_t b = (ctx.input2[i] + op.input2_offset) * (1 << left_shift);
    const int32_t sa = fx::multiply_by_quantized_multiplier_smaller_than_one_exp(a, op.extra[1], op.extra[2]);
    const int32_t sb = fx::multiply_by_quantized_multiplier_smaller_than_one_exp(b, op.extra[3], op.extra[4]);
    const int32_t sum = sa + sb;
    const int32_t r = fx::multiply_by_quantized_multiplier_smaller_than_one_exp(sum, ctx.multipliers[0], ctx.shifts[0]) +
                      op.output_offset;
    ctx.output[i] = fx::clamp_int8(r, op.act_min, op.act_max);
  }
}

void softmax(const OpContext& ctx) {
  constexpr int kScaledDiffIntegerBits = 5;
  constexpr int kAccumulationIntegerBits = 12;
  const TemOp& op = *ctx.op;
  const int32_t beta_multiplier = op.extra[0];
  const int32_t beta_left_shift = op.extra[1];
  const int32_t diff_min = op.extra[2];
  const int32_t depth = ctx.input_shape.c;
  const int32_t rows = ctx.input_shape.elements() / depth;
  for (int32_t r = 0; r < rows; ++r) {
    const int8_t* in = ctx.input + r * depth;
    int8_t* out = ctx.output + r * depth;
    int32_t max_in_row = -128;
    for (int32_t c = 0; c < depth; ++c) max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
    int32_t sum_of_exps = 0;  // Q12
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t diff = in[c] - max_in_row;
      if (diff >= diff_min) {
        const int32_t rescaled = fx::multiply_by_quantized_multiplier_greater_than_one(diff, beta_multiplier, beta_left_shift);
        const int32_t e = fx::exp_on_negative_values(rescaled, kScaledDiffIntegerBits);
        sum_of_exps = fx::wrap_add(sum_of_exps, fx::fp_rescale(e, 0, kAccumulationIntegerBits));
      }
    }
    int num_bits_over_unit = 0;
    const int32_t shifted_scale = fx::get_reciprocal(sum_of_exps, kAccumulationIntegerBits, &num_bits_over_unit);
    // In-place safe: out[c] is written only after in[c] was read for the last time.
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t diff = in[c] - max_in_row;
      if (diff >= diff_min) {
        const int32_t rescaled = fx::multiply_by_quantized_multiplier_greater_than_one(diff, beta_multiplier, beta_left_shift);
        const int32_t e = fx::exp_on_negative_values(rescaled, kScaledDiffIntegerBits);
        const int32_t unsat = fx::rounding_divide_by_pot(fx::fp_mul(shifted_scale, e), num_bits_over_unit + 31 - 8);
        out[c] = fx::clamp_int8(unsat - 128, -128, 127);
      } else {
        out[c] = -128;
      }
    }
  }
}

}  // namespace tinyedge::runtime::reference
