// RELU6, int8 and int16 (TFLite Micro's Relu6Quantized): a clamp to [input zero point, the input's
// quantised 6.0], computed offline. Like TFLite Micro it does not rescale: the output is taken to
// share the input's quantisation (the compiler checks that).
#include "node_firmware/runtime/kernels/unary.h"

namespace tinyedge::runtime::kernels {
namespace {

struct Relu6Params {
  int32_t lower;  // input zero point
  int32_t upper;  // round(6 / input scale) + zero point
};
static_assert(sizeof(Relu6Params) == 8);

Status validate(const ValidateContext& v) {
  if (Status s = unary_same_type(v); s != Status::kOk) return s;
  const Relu6Params* p = v.params<Relu6Params>();
  if (p == nullptr) return Status::kBadParams;
  const uint8_t type = v.input(0)->type;
  if (p->lower < type_min(type) || p->upper > type_max(type) || p->lower > p->upper) return Status::kBadParams;
  return v.op->packed_bytes == 0 && v.op->quant_count == 0 ? Status::kOk : Status::kBadParams;
}

template <class T>
void relu6_typed(const OpContext& ctx) {
  const Relu6Params& p = ctx.params_as<Relu6Params>();
  map_elements<T>(ctx, [&](int32_t x) { return x > p.upper ? p.upper : (x < p.lower ? p.lower : x); });
}

void relu6(const OpContext& ctx) {
  is_int16(ctx, ctx.inputs[0]) ? relu6_typed<int16_t>(ctx) : relu6_typed<int8_t>(ctx);
}

}  // namespace

extern const KernelRegistration relu6_kernel{
    Kernel::kRelu6,
    InPlace::kSameOffset,
    validate,
    relu6,
    relu6,
    TINYEDGE_KERNEL_TEXT("RELU6"),
    TINYEDGE_KERNEL_TEXT("int8 or int16 input and output of the same type, element count and quantisation, any "
                         "rank; 6.0 must be representable in the input's quantisation")};

}  // namespace tinyedge::runtime::kernels
