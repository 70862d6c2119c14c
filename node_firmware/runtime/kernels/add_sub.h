// ADD and SUB on int8 or int16 with broadcasting (TFLite's quantised arithmetic: both inputs
// shifted left by left_shift (20 for int8, 15 for int16), rescaled to a common scale, summed or
// subtracted, rescaled to the output, clamped to the fused activation). Params: BasicOpParams
// with extra = {left_shift, input1 multiplier, input1 shift, input2 multiplier, input2 shift};
// the output multiplier and shift are the op's one quant table entry.
#pragma once
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/broadcast.h"

namespace tinyedge::runtime {

inline Status validate_add_sub(const ValidateContext& v) {
  if (v.op->input_count != 2 || v.op->output_count != 1) return Status::kBadOp;
  const TemTensor* a = v.input(0);
  const TemTensor* b = v.input(1);
  const TemTensor& out = *v.output(0);
  if (a == nullptr || b == nullptr || !is_int8_or_int16(out) || !same_type(*a, out) || !same_type(*b, out)) {
    return Status::kBadIndex;
  }
  if (!broadcast_shapes_ok(*a, *b, out)) return Status::kBadShape;
  if (!broadcast_input_apart(*a, out) || !broadcast_input_apart(*b, out)) return Status::kArenaOverlap;
  const BasicOpParams* p = v.params<BasicOpParams>();
  if (p == nullptr || v.op->packed_bytes != 0) return Status::kBadParams;
  const bool int16 = is_type(out, TemType::kInt16);
  // Input offsets strictly inside the type's range (TFLite's bounds): |x + offset| <= 65534, so
  // shifted left by 15 (int16) or 20 (int8) it stays in int32.
  const int32_t lo = int16 ? -32766 : -127, hi = int16 ? 32766 : 128;
  if (p->input_offset < lo || p->input_offset > hi || p->input2_offset < lo || p->input2_offset > hi) {
    return Status::kBadParams;
  }
  if (p->output_offset < type_min(out) || p->output_offset > type_max(out)) return Status::kBadParams;
  if (p->act_min < type_min(out) || p->act_max > type_max(out) || p->act_min > p->act_max) return Status::kBadParams;
  if (p->extra[0] != (int16 ? 15 : 20)) return Status::kBadQuantization;
  if (p->extra[1] < 0 || p->extra[3] < 0) return Status::kBadQuantization;
  if (p->extra[2] > 0 || p->extra[2] < -31 || p->extra[4] > 0 || p->extra[4] < -31) return Status::kBadQuantization;
  return v.quant_table(1, 1, true);
}

// sign: +1 ADD, -1 SUB. fast: the fused one-multiply requantisation (fx::requantise_fast: the
// same bits for multipliers >= 0 and shifts <= 0, which validate() guarantees).
template <class T, int sign, bool fast>
void add_sub(const OpContext& ctx) {
  const BasicOpParams& p = ctx.params_as<BasicOpParams>();
  const int32_t left_shift = p.extra[0];
  const int32_t m1 = p.extra[1], s1 = p.extra[2], m2 = p.extra[3], s2 = p.extra[4];
  const int32_t om = ctx.multipliers[0], os = ctx.shifts[0];
  const int32_t off1 = p.input_offset, off2 = p.input2_offset, out_off = p.output_offset;
  const int32_t lo = p.act_min, hi = p.act_max;
  auto rescale = [](int32_t v, int32_t m, int32_t shift) {
    return fast ? fx::requantise_fast(v, m, shift)
                : fx::multiply_by_quantized_multiplier_smaller_than_one_exp(v, m, shift);
  };
  auto op = [=](T a, T b) -> T {
    const int32_t x = rescale((a + off1) * (1 << left_shift), m1, s1);
    const int32_t y = rescale((b + off2) * (1 << left_shift), m2, s2);
    const int32_t r = rescale(sign > 0 ? x + y : x - y, om, os) + out_off;
    return static_cast<T>(r < lo ? lo : (r > hi ? hi : r));
  };
  const TemTensor& ta = ctx.tensors[ctx.inputs[0]];
  const TemTensor& tb = ctx.tensors[ctx.inputs[1]];
  const TemTensor& to = ctx.tensors[ctx.outputs[0]];
  broadcast_binary<T>(ta, reinterpret_cast<const T*>(ctx.input), tb, reinterpret_cast<const T*>(ctx.input2), to,
                      reinterpret_cast<T*>(ctx.output), op);
}

template <int sign, bool fast>
void add_sub_any(const OpContext& ctx) {
  if (ctx.tensors[ctx.outputs[0]].type == static_cast<uint8_t>(TemType::kInt16)) {
    add_sub<int16_t, sign, fast>(ctx);
  } else {
    add_sub<int8_t, sign, fast>(ctx);
  }
}

}  // namespace tinyedge::runtime
