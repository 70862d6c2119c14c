// RESHAPE, SQUEEZE and EXPAND_DIMS (the compiler lowers all three here): the bytes stay as they
// are; the compiler usually places the output on the input, leaving nothing to do. Any type,
// rank <= 6.
#include <cstring>

#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/nd.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) {
  if (v.op->input_count != 1 || v.op->output_count != 1) return Status::kBadOp;
  const TemTensor* in = v.input(0);
  const TemTensor& out = *v.output(0);
  if (in == nullptr || (in->flags & kTensorConstant) || !same_type(*in, out)) return Status::kBadIndex;
  // No params, or the BasicOpParams the first compilers wrote (nothing in it is used).
  if (v.op->params_bytes != 0 && v.op->params_bytes != sizeof(BasicOpParams)) return Status::kBadParams;
  if (v.op->packed_bytes != 0 || v.op->quant_count != 0) return Status::kBadParams;
  if (in->zero_point != out.zero_point) return Status::kBadQuantization;
  return in->bytes == out.bytes ? Status::kOk : Status::kBadShape;
}

void reshape(const OpContext& ctx) {
  if (ctx.output != ctx.input) {
    std::memmove(ctx.output, ctx.input, ctx.tensors[ctx.outputs[0]].bytes);
  }
}

}  // namespace

extern const KernelRegistration reshape_kernel{
    Kernel::kReshape,
    InPlace::kSameOffset,
    validate,
    reshape,
    reshape,
    TINYEDGE_KERNEL_TEXT("RESHAPE, SQUEEZE, EXPAND_DIMS"),
    TINYEDGE_KERNEL_TEXT("any type, rank <= 6, same element count and quantisation; the shape/axis input is folded "
                         "by the compiler")};

}  // namespace tinyedge::runtime::kernels
