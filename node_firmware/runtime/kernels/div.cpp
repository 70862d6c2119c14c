// DIV, int8, broadcasting up to rank 6 (TFLite's quantised division: the divisor's reciprocal in
// fixed point, the dividend normalised by its headroom, one rescale by input1 / (input2 *
// output) scales). Params: BasicOpParams (offsets, clamp); quant table: that multiplier.
// A zero divisor, which TFLite leaves undefined, gives the clamp bound of the dividend's sign
// (the output zero point for 0 / 0).
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/broadcast.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) {
  if (v.op->input_count != 2 || v.op->output_count != 1) return Status::kBadOp;
  const TemTensor* a = v.input(0);
  const TemTensor* b = v.input(1);
  const TemTensor& out = *v.output(0);
  if (a == nullptr || b == nullptr || !is_type(out, TemType::kInt8) || !same_type(*a, out) || !same_type(*b, out)) {
    return Status::kBadIndex;
  }
  if (!broadcast_shapes_ok(*a, *b, out)) return Status::kBadShape;
  if (!broadcast_input_apart(*a, out) || !broadcast_input_apart(*b, out)) return Status::kArenaOverlap;
  const BasicOpParams* p = v.params<BasicOpParams>();
  if (p == nullptr || v.op->packed_bytes != 0) return Status::kBadParams;
  if (p->input_offset < -127 || p->input_offset > 128 || p->input2_offset < -127 || p->input2_offset > 128 ||
      p->output_offset < -128 || p->output_offset > 127) {
    return Status::kBadParams;
  }
  if (p->act_min < -128 || p->act_max > 127 || p->act_min > p->act_max) return Status::kBadParams;
  return v.quant_table(1, 1, false);
}

int count_leading_sign_bits(int32_t x) {
  const uint32_t u = x >= 0 ? static_cast<uint32_t>(x) : ~static_cast<uint32_t>(x);
  return fx::count_leading_zeros(u) - 1;
}

void div(const OpContext& ctx) {
  const BasicOpParams& p = ctx.params_as<BasicOpParams>();
  const int32_t m = ctx.multipliers[0], s = ctx.shifts[0];
  auto op = [&](int8_t a, int8_t b) -> int8_t {
    int32_t x = a + p.input_offset;
    int32_t y = b + p.input2_offset;
    if (y == 0)
      return static_cast<int8_t>(x > 0 ? p.act_max
                                       : (x < 0 ? p.act_min : fx::clamp_int8(p.output_offset, p.act_min, p.act_max)));
    if (y < 0) {
      x = -x;
      y = -y;
    }
    int recip_shift = 0;
    const int32_t inverse = fx::get_reciprocal(y, 31, &recip_shift);
    const int headroom = count_leading_sign_bits(x);
    const int32_t unscaled = fx::multiply_by_quantized_multiplier_greater_than_one(x, inverse, headroom);
    const int total_shift = s - recip_shift - headroom;  // <= 0 for every int8 operand and 31-bit scales
    const int32_t high = fx::saturating_rounding_doubling_high_mul(unscaled, m);
    const int32_t scaled = total_shift <= 0
                               ? fx::rounding_divide_by_pot(high, -total_shift < 31 ? -total_shift : 31)
                               : fx::saturating_rounding_multiply_by_pot(high, total_shift < 31 ? total_shift : 31);
    return fx::clamp_int8(scaled + p.output_offset, p.act_min, p.act_max);
  };
  broadcast_binary<int8_t>(ctx.tensors[ctx.inputs[0]], ctx.input, ctx.tensors[ctx.inputs[1]], ctx.input2,
                           ctx.tensors[ctx.outputs[0]], ctx.output, op);
}

}  // namespace

extern const KernelRegistration div_kernel{Kernel::kDiv,
                                           InPlace::kSameOffset,
                                           validate,
                                           div,
                                           div,
                                           TINYEDGE_KERNEL_TEXT("DIV"),
                                           TINYEDGE_KERNEL_TEXT("int8 a, b and output; broadcasting up to rank 6; "
                                                                "fused RELU/RELU6/RELU_N1_TO_1")};

}  // namespace tinyedge::runtime::kernels
