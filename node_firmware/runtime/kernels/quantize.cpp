// QUANTIZE: float32 -> int8/int16 (round(x / scale) + zero_point, in float as TFLite does, at a
// graph's float input) and integer requantisation, the pairs TFLite Micro runs: int8/int16 ->
// int8/int16/int32 and int32 -> int8/int16 (x - input zero point, rescaled by the quant table
// entry, plus the output zero point, saturated; in int32 arithmetic as TFLite's Requantize, whose
// int32 sums wrap).
#include <cmath>

#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/layout_params.h"
#include "node_firmware/runtime/kernels/nd.h"

namespace tinyedge::runtime::kernels {
namespace {

bool zero_point_fits(int32_t zp, const TemTensor& t) {
  return is_type(t, TemType::kInt32) || (zp >= type_min(t) && zp <= type_max(t));
}

Status validate(const ValidateContext& v) {
  if (v.op->input_count != 1 || v.op->output_count != 1) return Status::kBadOp;
  const TemTensor* in = v.input(0);
  const TemTensor& out = *v.output(0);
  if (in == nullptr || (in->flags & kTensorConstant)) return Status::kBadIndex;
  if (in->bytes / element_bytes(in->type) != out.bytes / element_bytes(out.type)) return Status::kBadShape;
  const ConvertParams* p = v.params<ConvertParams>();
  if (p == nullptr || v.op->packed_bytes != 0) return Status::kBadParams;
  if (is_type(*in, TemType::kFloat32)) {
    if (!is_int8_or_int16(out)) return Status::kBadIndex;
    if (!(p->scale > 0.0f) || !std::isfinite(p->scale) || !zero_point_fits(p->zero_point, out)) {
      return Status::kBadQuantization;
    }
    return v.op->quant_count == 0 ? Status::kOk : Status::kBadQuantization;
  }
  const bool int32_in = is_type(*in, TemType::kInt32);
  if (!(is_int8_or_int16(*in) || int32_in) ||
      !(is_int8_or_int16(out) || (is_type(out, TemType::kInt32) && !int32_in))) {
    return Status::kBadIndex;
  }
  if (!zero_point_fits(p->input_zero_point, *in) || !zero_point_fits(p->zero_point, out)) {
    return Status::kBadQuantization;
  }
  return v.quant_table(1, 1, false);
}

template <class Out>
void from_float(const OpContext& ctx, const ConvertParams& p, int32_t lo, int32_t hi) {
  const auto* in = reinterpret_cast<const float*>(ctx.input);
  auto* out = reinterpret_cast<Out*>(ctx.output);
  const uint32_t n = ctx.tensors[ctx.outputs[0]].bytes / sizeof(Out);
  for (uint32_t i = 0; i < n; ++i) {
    const float q = std::round(in[i] / p.scale);
    // Saturate in float first: casting an out-of-range float to int is undefined.
    const int32_t v = q >= 2147483520.0f ? INT32_MAX : (q <= -2147483648.0f ? INT32_MIN : static_cast<int32_t>(q));
    const int64_t r = static_cast<int64_t>(v) + p.zero_point;
    out[i] = static_cast<Out>(r < lo ? lo : (r > hi ? hi : r));
  }
}

template <class In, class Out>
void requantise(const OpContext& ctx, const ConvertParams& p, int32_t lo, int32_t hi) {
  const auto* in = reinterpret_cast<const In*>(ctx.input);
  auto* out = reinterpret_cast<Out*>(ctx.output);
  const uint32_t n = ctx.tensors[ctx.outputs[0]].bytes / sizeof(Out);
  const int32_t m = ctx.multipliers[0], s = ctx.shifts[0];
  for (uint32_t i = 0; i < n; ++i) {
    const int32_t centred = fx::wrap_sub(static_cast<int32_t>(in[i]), p.input_zero_point);
    const int32_t r = fx::wrap_add(fx::multiply_by_quantized_multiplier(centred, m, s), p.zero_point);
    out[i] = static_cast<Out>(r < lo ? lo : (r > hi ? hi : r));
  }
}

template <class In>
void requantise_from(const OpContext& ctx, const ConvertParams& p, const TemTensor& to) {
  if (is_type(to, TemType::kInt8)) {
    requantise<In, int8_t>(ctx, p, -128, 127);
  } else if (is_type(to, TemType::kInt16)) {
    requantise<In, int16_t>(ctx, p, -32768, 32767);
  } else {
    requantise<In, int32_t>(ctx, p, INT32_MIN, INT32_MAX);
  }
}

void quantize(const OpContext& ctx) {
  const ConvertParams& p = ctx.params_as<ConvertParams>();
  const TemTensor& ti = ctx.tensors[ctx.inputs[0]];
  const TemTensor& to = ctx.tensors[ctx.outputs[0]];
  if (is_type(ti, TemType::kFloat32)) {
    if (is_type(to, TemType::kInt8)) {
      from_float<int8_t>(ctx, p, -128, 127);
    } else {
      from_float<int16_t>(ctx, p, -32768, 32767);
    }
  } else if (is_type(ti, TemType::kInt8)) {
    requantise_from<int8_t>(ctx, p, to);
  } else if (is_type(ti, TemType::kInt32)) {
    requantise_from<int32_t>(ctx, p, to);
  } else {
    requantise_from<int16_t>(ctx, p, to);
  }
}

}  // namespace

extern const KernelRegistration quantize_kernel{
    Kernel::kQuantize,
    InPlace::kNever,
    validate,
    quantize,
    quantize,
    TINYEDGE_KERNEL_TEXT("QUANTIZE"),
    TINYEDGE_KERNEL_TEXT("float32 -> int8/int16 (per-tensor); requantisation int8/int16 -> int8/int16/int32 and "
                         "int32 -> int8/int16")};

}  // namespace tinyedge::runtime::kernels
