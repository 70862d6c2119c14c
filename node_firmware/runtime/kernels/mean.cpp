// MEAN and SUM (the compiler lowers both here) on int8 or int16: TFLite's quantised
// mean-or-sum: the int32 sum of each output's inputs minus input_zero_point * count, rescaled
// by the quant table entry (for MEAN the compiler folds 1/count into that multiplier exactly as
// TFLite does) plus the output zero point, saturated to the type.
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/reduce.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) {
  const ReduceParams* p = nullptr;
  if (Status s = validate_reduce(v, p); s != Status::kOk) return s;
  const TemTensor& out = *v.output(0);
  if (p->input_zero_point < type_min(out) || p->input_zero_point > type_max(out) ||
      p->output_zero_point < type_min(out) || p->output_zero_point > type_max(out)) {
    return Status::kBadParams;
  }
  return v.quant_table(1, 1, false);
}

template <class T>
void mean_typed(const OpContext& ctx) {
  const ReduceParams& p = ctx.params_as<ReduceParams>();
  const int32_t m = ctx.multipliers[0], s = ctx.shifts[0];
  const int32_t in_zp = p.input_zero_point, out_zp = p.output_zero_point;
  const int32_t lo = ctx.tensors[ctx.outputs[0]].type == static_cast<uint8_t>(TemType::kInt16) ? -32768 : -128;
  const int32_t hi = -lo - 1;
  reduce_each<T>(
      ctx, [] { return uint32_t{0}; },
      [](uint32_t acc, T x) { return acc + static_cast<uint32_t>(static_cast<int32_t>(x)); },
      [=](uint32_t acc, int64_t count) {
        // int32 arithmetic as TFLite's (wrapping where it would overflow).
        const auto sum = static_cast<int32_t>(acc - static_cast<uint32_t>(in_zp) * static_cast<uint32_t>(count));
        const int32_t r = fx::multiply_by_quantized_multiplier(sum, m, s) + out_zp;
        return static_cast<T>(r < lo ? lo : (r > hi ? hi : r));
      });
}

void mean(const OpContext& ctx) {
  if (ctx.tensors[ctx.outputs[0]].type == static_cast<uint8_t>(TemType::kInt16)) {
    mean_typed<int16_t>(ctx);
  } else {
    mean_typed<int8_t>(ctx);
  }
}

}  // namespace

extern const KernelRegistration mean_kernel{
    Kernel::kMean,
    InPlace::kNever,
    validate,
    mean,
    mean,
    TINYEDGE_KERNEL_TEXT("MEAN, SUM"),
    TINYEDGE_KERNEL_TEXT("int8 or int16, rank <= 6, constant axes (folded by the compiler), keep_dims or not")};

}  // namespace tinyedge::runtime::kernels
