// Shared by the elementwise activations (RELU, RELU6, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH...):
// one activation input, one output of the same type and element count, int8 or int16, any rank.
#pragma once
#include <cstdint>

#include "node_firmware/runtime/kernels/registration.h"

namespace tinyedge::runtime::kernels {

// KOk when input 0 is an int8 or int16 activation and output 0 has its type and element count
// (any rank: these kernels run over the flat buffer). `int16_zero_points` additionally asks for
// zero points 0 on both (TFLite's int16 convention for the ops that rely on it).
inline Status unary_same_type(const ValidateContext& v, bool int16_zero_points = false) {
  if (v.op->input_count != 1 || v.op->output_count != 1) return Status::kBadOp;
  const TemTensor* in = v.input(0);
  const TemTensor* out = v.output(0);
  const bool int8 = v.input_is_activation(0, TemType::kInt8);
  const bool int16 = v.input_is_activation(0, TemType::kInt16);
  if ((!int8 && !int16) || out->type != in->type) return Status::kBadIndex;
  if (out->bytes != in->bytes) return Status::kBadShape;
  if (int16 && int16_zero_points && (in->zero_point != 0 || out->zero_point != 0)) return Status::kBadQuantization;
  return Status::kOk;
}

inline bool is_int16(const OpContext& ctx, uint16_t tensor) {
  return ctx.tensors[tensor].type == static_cast<uint8_t>(TemType::kInt16);
}

// Range of the values a tensor of `type` holds.
inline int32_t type_min(uint8_t type) { return type == static_cast<uint8_t>(TemType::kInt16) ? -32768 : -128; }
inline int32_t type_max(uint8_t type) { return type == static_cast<uint8_t>(TemType::kInt16) ? 32767 : 127; }

// Applies f(int32 value) -> int32 (already clamped to T's range by f) over every element.
template <class T, class F>
inline void map_elements(const OpContext& ctx, F f) {
  const TemTensor& t = ctx.tensors[ctx.outputs[0]];
  const uint32_t n = t.bytes / sizeof(T);
  const T* in = reinterpret_cast<const T*>(ctx.data(ctx.inputs[0]));
  T* out = reinterpret_cast<T*>(ctx.mutable_data(ctx.outputs[0]));
  for (uint32_t i = 0; i < n; ++i) out[i] = static_cast<T>(f(static_cast<int32_t>(in[i])));
}

}  // namespace tinyedge::runtime::kernels
