// RESHAPE (and any op that only relabels the shape): the bytes stay as they are; the compiler
// usually places the output on the input, leaving nothing to do.
#include <cstring>

#include "node_firmware/runtime/kernels/basic_validate.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) {
  Status status;
  if (basic_int8_op(v, 1, status) == nullptr) return status;
  if (v.op->packed_bytes != 0 || v.op->quant_count != 0) return Status::kBadParams;
  return v.input(0)->bytes == v.output(0)->bytes ? Status::kOk : Status::kBadShape;
}

void reshape(const OpContext& ctx) {
  if (ctx.output != ctx.input) {
    std::memmove(ctx.output, ctx.input, static_cast<size_t>(ctx.output_shape.elements()));
  }
}

}  // namespace

extern const KernelRegistration reshape_kernel{
    Kernel::kReshape,
    InPlace::kSameOffset,
    validate,
    reshape,
    reshape,
    TINYEDGE_KERNEL_TEXT("RESHAPE"),
    TINYEDGE_KERNEL_TEXT("int8, rank <= 4, same element count; the shape input is folded by the compiler")};

}  // namespace tinyedge::runtime::kernels
