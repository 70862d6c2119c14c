// The 16x8 variants of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (int16 activations with
// zero point 0, int8 weights, int64 or int32 bias): TFLite's reference_integer_ops semantics.
// With an int64 bias the sum is 64-bit and requantised by the 64-bit MultiplyByQuantizedMultiplier;
// with an int32 bias TFLite accumulates in int32 and requantises as for int8.
#pragma once
#include <cstdint>

#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/basic_validate.h"

namespace tinyedge::runtime::kernels {

inline bool is_16x8(const ValidateContext& v) { return v.input_is_activation(0, TemType::kInt16); }
inline bool is_16x8(const OpContext& ctx) {
  return ctx.tensors[ctx.inputs[0]].type == static_cast<uint8_t>(TemType::kInt16);
}

// Params, types and quantisation shared by the three 16x8 kernels; nullptr (status set) otherwise.
// The bias (input 2) may be absent.
inline const BasicOpParams* basic_16x8_op(const ValidateContext& v, Status& status) {
  status = Status::kBadOp;
  if (v.op->input_count != 3 || v.op->output_count != 1) return nullptr;
  status = Status::kBadIndex;
  const TemTensor& out = *v.output(0);
  if (!is_16x8(v) || out.type != static_cast<uint8_t>(TemType::kInt16) || !v.input_is_constant(1, TemType::kInt8)) {
    return nullptr;
  }
  if (v.input(2) != nullptr && !v.input_is_constant(2, TemType::kInt64) && !v.input_is_constant(2, TemType::kInt32)) {
    return nullptr;
  }
  status = Status::kBadParams;
  if (v.input_is_constant(2, TemType::kInt64) && !v.int64_constant_within(2, kMaxBias64)) return nullptr;
  status = Status::kBadQuantization;
  if (v.input(0)->zero_point != 0 || out.zero_point != 0) return nullptr;
  status = Status::kBadParams;
  const BasicOpParams* p = v.params<BasicOpParams>();
  if (p == nullptr || p->input_offset != 0 || p->output_offset != 0 || p->act_min < -32768 || p->act_max > 32767 ||
      p->act_min > p->act_max || p->packing != 0 || v.op->packed_bytes != 0) {
    return nullptr;
  }
  status = Status::kBadShape;
  if (v.input(0)->rank > 4 || out.rank > 4) return nullptr;
  status = Status::kOk;
  return p;
}

// The quant table: 1 or `channels` entries; the 64-bit requantisation takes shifts up to 7 only.
inline Status quant_16x8(const ValidateContext& v, uint32_t channels) {
  if (Status s = v.quant_table(1, channels, false); s != Status::kOk) return s;
  const auto* shifts = reinterpret_cast<const int32_t*>(v.blob.data() + v.op->quant_offset) + v.op->quant_count;
  for (uint32_t k = 0; k < v.op->quant_count; ++k) {
    if (shifts[k] > 7) return Status::kBadQuantization;
  }
  return Status::kOk;
}

inline bool bias_is_64(const OpContext& ctx) {
  return ctx.inputs[2] != kNoTensor && ctx.tensors[ctx.inputs[2]].type == static_cast<uint8_t>(TemType::kInt64);
}

// acc + product; the int32 sum wraps (TFLite lets it overflow) without UB here.
template <class Acc>
inline Acc accumulate(Acc acc, int32_t product) {
  if constexpr (sizeof(Acc) == 8) {
    return acc + product;
  } else {
    return fx::wrap_add(acc, product);
  }
}

// Adds the bias of channel `oc` and requantises one accumulator to the clamped int16 output.
template <class Acc>
inline int16_t output_16x8(Acc acc, const OpContext& ctx, int32_t oc) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const int q = ctx.quant_count > 1 ? oc : 0;
  int32_t v;
  if constexpr (sizeof(Acc) == 8) {
    if (ctx.inputs[2] != kNoTensor) acc += reinterpret_cast<const int64_t*>(ctx.data(ctx.inputs[2]))[oc];
    v = fx::multiply_by_quantized_multiplier_64(acc, ctx.multipliers[q], ctx.shifts[q]);
  } else {
    if (ctx.inputs[2] != kNoTensor)
      acc = fx::wrap_add(acc, reinterpret_cast<const int32_t*>(ctx.data(ctx.inputs[2]))[oc]);
    v = fx::multiply_by_quantized_multiplier(acc, ctx.multipliers[q], ctx.shifts[q]);
  }
  return static_cast<int16_t>(fx::clamp(v, op.act_min, op.act_max));
}

}  // namespace tinyedge::runtime::kernels
