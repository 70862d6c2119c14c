// SPLIT, SPLIT_V and UNPACK (the compiler lowers all three here, sizes and axis folded into the
// output shapes and params): any element type, rank <= 6, outputs of the input's quantisation.
#include <cstring>

#include "node_firmware/runtime/kernels/join.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) {
  if (v.op->input_count != 1 || v.op->output_count < 1) return Status::kBadOp;
  const JoinParams* p = v.params<JoinParams>();
  if (p == nullptr || v.op->quant_count != 0 || v.op->packed_bytes != 0) return Status::kBadParams;
  const TemTensor* whole = v.input(0);
  if (whole == nullptr) return Status::kBadIndex;
  const TemTensor* parts[kMaxOperands];
  for (uint8_t k = 0; k < v.op->output_count; ++k) parts[k] = v.output(k);
  return validate_join(*whole, parts, v.op->output_count, *p);
}

void split(const OpContext& ctx) {
  const JoinParams& p = ctx.params_as<JoinParams>();
  const TemTensor& whole = ctx.tensors[ctx.inputs[0]];
  const uint32_t outer = join_outer(whole, p.axis);
  const uint8_t* in = ctx.data(ctx.inputs[0]);
  for (uint32_t o = 0; o < outer; ++o) {
    for (uint8_t k = 0; k < ctx.op->output_count; ++k) {
      const uint32_t chunk = ctx.tensors[ctx.outputs[k]].bytes / outer;
      std::memcpy(ctx.mutable_data(ctx.outputs[k]) + static_cast<size_t>(o) * chunk, in, chunk);
      in += chunk;
    }
  }
}

}  // namespace

extern const KernelRegistration split_kernel{
    Kernel::kSplit,
    InPlace::kNever,
    validate,
    split,
    split,
    TINYEDGE_KERNEL_TEXT("SPLIT, SPLIT_V, UNPACK"),
    TINYEDGE_KERNEL_TEXT("any type, rank <= 6, constant axis and sizes (folded by the compiler), 1..32 outputs of "
                         "the input's quantisation")};

}  // namespace tinyedge::runtime::kernels
