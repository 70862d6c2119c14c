// MUL: int8, or int16 with zero points 0, with broadcasting up to rank 6 (TFLite's quantised
// multiply: (a + offset_a) * (b + offset_b) rescaled once to the output). Params: BasicOpParams
// (input_offset, input2_offset, output_offset, act_min/max); quant table: the output multiplier.
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
  if (a == nullptr || b == nullptr || !is_int8_or_int16(out) || !same_type(*a, out) || !same_type(*b, out)) {
    return Status::kBadIndex;
  }
  if (!broadcast_shapes_ok(*a, *b, out)) return Status::kBadShape;
  if (!broadcast_input_apart(*a, out) || !broadcast_input_apart(*b, out)) return Status::kArenaOverlap;
  const BasicOpParams* p = v.params<BasicOpParams>();
  if (p == nullptr || v.op->packed_bytes != 0) return Status::kBadParams;
  const bool int16 = is_type(out, TemType::kInt16);
  const int32_t lo = int16 ? 0 : -127, hi = int16 ? 0 : 128;
  if (p->input_offset < lo || p->input_offset > hi || p->input2_offset < lo || p->input2_offset > hi) {
    return Status::kBadParams;
  }
  if (p->output_offset < (int16 ? 0 : -128) || p->output_offset > (int16 ? 0 : 127)) return Status::kBadParams;
  if (p->act_min < type_min(out) || p->act_max > type_max(out) || p->act_min > p->act_max) return Status::kBadParams;
  return v.quant_table(1, 1, false);
}

template <class T>
void mul(const OpContext& ctx) {
  const BasicOpParams& p = ctx.params_as<BasicOpParams>();
  const int32_t off1 = p.input_offset, off2 = p.input2_offset, out_off = p.output_offset;
  const int32_t lo = p.act_min, hi = p.act_max;
  const int32_t m = ctx.multipliers[0], s = ctx.shifts[0];
  auto op = [=](T a, T b) -> T {
    const int32_t r = fx::multiply_by_quantized_multiplier((a + off1) * (b + off2), m, s) + out_off;
    return static_cast<T>(r < lo ? lo : (r > hi ? hi : r));
  };
  broadcast_binary<T>(ctx.tensors[ctx.inputs[0]], reinterpret_cast<const T*>(ctx.input), ctx.tensors[ctx.inputs[1]],
                      reinterpret_cast<const T*>(ctx.input2), ctx.tensors[ctx.outputs[0]],
                      reinterpret_cast<T*>(ctx.output), op);
}

void mul_any(const OpContext& ctx) {
  if (ctx.tensors[ctx.outputs[0]].type == static_cast<uint8_t>(TemType::kInt16)) {
    mul<int16_t>(ctx);
  } else {
    mul<int8_t>(ctx);
  }
}

}  // namespace

extern const KernelRegistration mul_kernel{
    Kernel::kMul,
    InPlace::kSameOffset,
    validate,
    mul_any,
    mul_any,
    TINYEDGE_KERNEL_TEXT("MUL"),
    TINYEDGE_KERNEL_TEXT("int8, or int16 with zero points 0; a, b and output of one type; broadcasting up to rank 6; "
                         "fused RELU/RELU6/RELU_N1_TO_1")};

}  // namespace tinyedge::runtime::kernels
