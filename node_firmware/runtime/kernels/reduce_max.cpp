// REDUCE_MAX on int8 or int16: the largest raw value over the reduced axes; input and output
// share one quantisation (TFLite requires it).
#include "node_firmware/runtime/kernels/reduce.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) {
  const ReduceParams* p = nullptr;
  if (Status s = validate_reduce(v, p); s != Status::kOk) return s;
  if (v.input(0)->zero_point != v.output(0)->zero_point) return Status::kBadQuantization;
  return v.op->quant_count == 0 ? Status::kOk : Status::kBadQuantization;
}

template <class T>
void reduce_max_typed(const OpContext& ctx) {
  reduce_each<T>(
      ctx, [] { return static_cast<T>(sizeof(T) == 1 ? -128 : -32768); }, [](T acc, T x) { return x > acc ? x : acc; },
      [](T acc, int64_t) { return acc; });
}

void reduce_max(const OpContext& ctx) {
  if (ctx.tensors[ctx.outputs[0]].type == static_cast<uint8_t>(TemType::kInt16)) {
    reduce_max_typed<int16_t>(ctx);
  } else {
    reduce_max_typed<int8_t>(ctx);
  }
}

}  // namespace

extern const KernelRegistration reduce_max_kernel{
    Kernel::kReduceMax,
    InPlace::kNever,
    validate,
    reduce_max,
    reduce_max,
    TINYEDGE_KERNEL_TEXT("REDUCE_MAX"),
    TINYEDGE_KERNEL_TEXT("int8 or int16, rank <= 6, constant axes, keep_dims or not; input and output of one "
                         "quantisation")};

}  // namespace tinyedge::runtime::kernels
