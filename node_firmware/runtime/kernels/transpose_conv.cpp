// TRANSPOSE_CONV, int8 and 16x8 (int16 activations, int8 weights, int64 bias), TFLite's
// reference_integer_ops::TransposeConv semantics. TFLite scatters every input pixel into an
// int32 (int64 for 16x8) scratch image; here each output gathers the input taps that land on it
// instead, which adds the same products (exactly for int64, modulo 2^32 for int32 as TFLite's
// wrapping adds) and needs no scratch in the arena.
//
// Operands: input [N,H,W,I], filter [O,KH,KW,I], bias [O] (or absent), and optionally the
// output-shape tensor (int32 [4], constant or a graph input): the output tensor's shape rules, the
// compiler checked it against the shape tensor.
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/basic_validate.h"

namespace tinyedge::runtime::kernels {
namespace {

struct TransposeConvParams {
  int32_t stride_h, stride_w;
  int32_t pad_top, pad_left;  // TFLite's padding for the output size (SAME/VALID)
  int32_t input_offset;       // -input zero point (0 for int16)
  int32_t output_offset;      // output zero point (0 for int16)
  int32_t act_min, act_max;
};
static_assert(sizeof(TransposeConvParams) == 32);

Status validate(const ValidateContext& v) {
  if ((v.op->input_count != 3 && v.op->input_count != 4) || v.op->output_count != 1) return Status::kBadOp;
  const bool int8 = v.input_is_activation(0, TemType::kInt8);
  const bool int16 = v.input_is_activation(0, TemType::kInt16);
  if (!int8 && !int16) return Status::kBadIndex;
  const TemTensor& tin = *v.input(0);
  const TemTensor& tout = *v.output(0);
  if (tout.type != tin.type || !v.input_is_constant(1, TemType::kInt8)) return Status::kBadIndex;
  const TemTensor* tb = v.input(2);
  if (tb != nullptr && !v.input_is_constant(2, int8 ? TemType::kInt32 : TemType::kInt64)) return Status::kBadIndex;
  if (tb != nullptr && !int8 && !v.int64_constant_within(2, kMaxBias64)) return Status::kBadParams;
  if (v.op->input_count == 4 && v.inputs[3] != kNoTensor) {
    const TemTensor& shape = *v.input(3);
    if (shape.type != static_cast<uint8_t>(TemType::kInt32) || shape.rank != 1 || shape.dims[0] != 4) {
      return Status::kBadShape;
    }
  }
  const TemTensor& tf = *v.input(1);
  if (tin.rank != 4 || tout.rank != 4 || tf.rank != 4) return Status::kBadShape;
  const Shape4 in = shape_of(tin), out = shape_of(tout), f = shape_of(tf);
  if (in.n != out.n || f.c != in.c || f.n != out.c) return Status::kBadShape;
  if (tb != nullptr && (tb->rank != 1 || static_cast<int32_t>(tb->dims[0]) != out.c)) return Status::kBadShape;
  if (int64_t{f.h} * f.w * f.c > kMaxDotLength) return Status::kTooLarge;
  const TransposeConvParams* p = v.params<TransposeConvParams>();
  if (p == nullptr) return Status::kBadParams;
  if (p->stride_h < 1 || p->stride_w < 1 || p->stride_h > 255 || p->stride_w > 255) return Status::kBadParams;
  if (p->pad_top < 0 || p->pad_left < 0 || p->pad_top >= f.h || p->pad_left >= f.w) return Status::kBadParams;
  const int32_t lo = int8 ? -128 : -32768, hi = int8 ? 127 : 32767;
  if (p->act_min < lo || p->act_max > hi || p->act_min > p->act_max) return Status::kBadParams;
  if (int8) {
    if (p->input_offset < -127 || p->input_offset > 128 || p->output_offset < -128 || p->output_offset > 127) {
      return Status::kBadParams;
    }
  } else if (p->input_offset != 0 || p->output_offset != 0) {
    return Status::kBadQuantization;
  }
  if (v.op->packed_bytes != 0) return Status::kBadParams;
  // The 64-bit requantisation takes shifts up to 7 only.
  if (Status s = v.quant_table(1, static_cast<uint32_t>(out.c), false); s != Status::kOk) return s;
  if (int16) {
    const auto* shifts = reinterpret_cast<const int32_t*>(v.blob.data() + v.op->quant_offset) + v.op->quant_count;
    for (uint32_t k = 0; k < v.op->quant_count; ++k) {
      if (shifts[k] > 7) return Status::kBadQuantization;
    }
  }
  return Status::kOk;
}

// Calls tap(input pixel, filter tap index) for every input pixel whose scatter reaches output
// (oy, ox) of image `b`.
template <class Tap>
inline void for_each_tap(const OpContext& ctx, const TransposeConvParams& p, int32_t oy, int32_t ox, Tap tap) {
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  for (int32_t fy = 0; fy < f.h; ++fy) {
    const int32_t ty = oy + p.pad_top - fy;
    if (ty < 0 || ty % p.stride_h != 0 || ty / p.stride_h >= in.h) continue;
    const int32_t iy = ty / p.stride_h;
    for (int32_t fx = 0; fx < f.w; ++fx) {
      const int32_t tx = ox + p.pad_left - fx;
      if (tx < 0 || tx % p.stride_w != 0 || tx / p.stride_w >= in.w) continue;
      tap(iy * in.w + tx / p.stride_w, fy * f.w + fx);
    }
  }
}

void transpose_conv_int8(const OpContext& ctx) {
  const TransposeConvParams& p = ctx.params_as<TransposeConvParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const Shape4& out = ctx.output_shape;
  const bool per_channel = ctx.quant_count > 1;
  const int32_t* bias =
      ctx.inputs[2] != kNoTensor ? reinterpret_cast<const int32_t*>(ctx.data(ctx.inputs[2])) : nullptr;
  for (int32_t b = 0; b < out.n; ++b) {
    const int8_t* image = ctx.input + static_cast<size_t>(b) * in.h * in.w * in.c;
    for (int32_t oy = 0; oy < out.h; ++oy) {
      for (int32_t ox = 0; ox < out.w; ++ox) {
        int8_t* dst = ctx.output + ((static_cast<size_t>(b) * out.h + oy) * out.w + ox) * out.c;
        for (int32_t oc = 0; oc < out.c; ++oc) {
          uint32_t acc = 0;  // wraps as TFLite's int32 scratch
          for_each_tap(ctx, p, oy, ox, [&](int32_t pixel, int32_t tap) {
            const int8_t* x = image + pixel * in.c;
            const int8_t* w = ctx.filter + (oc * f.h * f.w + tap) * f.c;
            for (int32_t ic = 0; ic < in.c; ++ic) acc += static_cast<uint32_t>((x[ic] + p.input_offset) * w[ic]);
          });
          int32_t v = static_cast<int32_t>(acc);
          if (bias != nullptr) v = fx::wrap_add(v, bias[oc]);
          const int q = per_channel ? oc : 0;
          v = fx::wrap_add(fx::multiply_by_quantized_multiplier(v, ctx.multipliers[q], ctx.shifts[q]), p.output_offset);
          dst[oc] = static_cast<int8_t>(fx::clamp(v, p.act_min, p.act_max));
        }
      }
    }
  }
}

void transpose_conv_16x8(const OpContext& ctx) {
  const TransposeConvParams& p = ctx.params_as<TransposeConvParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& f = ctx.filter_shape;
  const Shape4& out = ctx.output_shape;
  const bool per_channel = ctx.quant_count > 1;
  const auto* input = reinterpret_cast<const int16_t*>(ctx.input);
  auto* output = reinterpret_cast<int16_t*>(ctx.output);
  const int64_t* bias =
      ctx.inputs[2] != kNoTensor ? reinterpret_cast<const int64_t*>(ctx.data(ctx.inputs[2])) : nullptr;
  for (int32_t b = 0; b < out.n; ++b) {
    const int16_t* image = input + static_cast<size_t>(b) * in.h * in.w * in.c;
    for (int32_t oy = 0; oy < out.h; ++oy) {
      for (int32_t ox = 0; ox < out.w; ++ox) {
        int16_t* dst = output + ((static_cast<size_t>(b) * out.h + oy) * out.w + ox) * out.c;
        for (int32_t oc = 0; oc < out.c; ++oc) {
          int64_t acc = 0;
          for_each_tap(ctx, p, oy, ox, [&](int32_t pixel, int32_t tap) {
            const int16_t* x = image + pixel * in.c;
            const int8_t* w = ctx.filter + (oc * f.h * f.w + tap) * f.c;
            for (int32_t ic = 0; ic < in.c; ++ic) acc += x[ic] * w[ic];
          });
          if (bias != nullptr) acc += bias[oc];
          const int q = per_channel ? oc : 0;
          const int32_t v = fx::multiply_by_quantized_multiplier_64(acc, ctx.multipliers[q], ctx.shifts[q]);
          dst[oc] = static_cast<int16_t>(fx::clamp(v, p.act_min, p.act_max));
        }
      }
    }
  }
}

void transpose_conv(const OpContext& ctx) {
  ctx.tensors[ctx.inputs[0]].type == static_cast<uint8_t>(TemType::kInt16) ? transpose_conv_16x8(ctx)
                                                                           : transpose_conv_int8(ctx);
}

}  // namespace

extern const KernelRegistration transpose_conv_kernel{
    Kernel::kTransposeConv,
    InPlace::kNever,
    validate,
    transpose_conv,
    transpose_conv,
    TINYEDGE_KERNEL_TEXT("TRANSPOSE_CONV"),
    TINYEDGE_KERNEL_TEXT("int8 input/output with int32 bias, or int16 input/output (zero points 0) with int64 "
                         "bias; int8 filter [O,KH,KW,I] per-tensor or per-channel; bias optional; output shape "
                         "int32 [4] constant or graph input; any stride, SAME/VALID; fused activation; "
                         "KH*KW*I <= 32768")};

}  // namespace tinyedge::runtime::kernels
