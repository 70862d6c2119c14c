// ADD, int8, same shapes (TFLite reference_integer_ops::Add semantics).
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/basic_validate.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) {
  Status status;
  const BasicOpParams* p = basic_int8_op(v, 2, status);
  if (p == nullptr) return status;
  if (!v.input_is_activation(1, TemType::kInt8)) return Status::kBadIndex;
  const uint32_t bytes = v.input(0)->bytes;
  if (v.input(1)->bytes != bytes || v.output(0)->bytes != bytes) return Status::kBadShape;
  if (p->input2_offset < -127 || p->input2_offset > 128) return Status::kBadParams;
  if (p->extra[0] < 0 || p->extra[0] > 20 || p->extra[1] < 0 || p->extra[3] < 0) return Status::kBadQuantization;
  if (p->extra[2] > 0 || p->extra[2] < -31 || p->extra[4] > 0 || p->extra[4] < -31) return Status::kBadQuantization;
  if (v.op->packed_bytes != 0) return Status::kBadParams;
  return v.quant_table(1, 1, true);
}

void add(const OpContext& ctx) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const int32_t left_shift = op.extra[0];
  const int32_t n = ctx.output_shape.elements();
  for (int32_t i = 0; i < n; ++i) {
    const int32_t a = (ctx.input[i] + op.input_offset) * (1 << left_shift);
    const int32_t b = (ctx.input2[i] + op.input2_offset) * (1 << left_shift);
    const int32_t sa = fx::multiply_by_quantized_multiplier_smaller_than_one_exp(a, op.extra[1], op.extra[2]);
    const int32_t sb = fx::multiply_by_quantized_multiplier_smaller_than_one_exp(b, op.extra[3], op.extra[4]);
    const int32_t sum = sa + sb;
    const int32_t r =
        fx::multiply_by_quantized_multiplier_smaller_than_one_exp(sum, ctx.multipliers[0], ctx.shifts[0]) +
        op.output_offset;
    ctx.output[i] = fx::clamp_int8(r, op.act_min, op.act_max);
  }
}

}  // namespace

extern const KernelRegistration add_kernel{
    Kernel::kAdd,
    InPlace::kSameOffset,
    validate,
    add,
    add,
    TINYEDGE_KERNEL_TEXT("ADD"),
    TINYEDGE_KERNEL_TEXT("int8 a, b and output of the same shape (no broadcasting); output scale >= each input's "
                         "/ 2^20; fused RELU/RELU6/RELU_N1_TO_1")};

}  // namespace tinyedge::runtime::kernels
