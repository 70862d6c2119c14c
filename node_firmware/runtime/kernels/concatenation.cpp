// CONCATENATION and PACK (the compiler lowers PACK here with packed = 1): any element type,
// rank <= 6, inputs and output of one quantisation (TFLite copies the bytes unchanged).
#include <cstring>

#include "node_firmware/runtime/kernels/join.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) {
  if (v.op->input_count < 1 || v.op->output_count != 1) return Status::kBadOp;
  const JoinParams* p = v.params<JoinParams>();
  if (p == nullptr || v.op->quant_count != 0 || v.op->packed_bytes != 0) return Status::kBadParams;
  const TemTensor* parts[kMaxOperands];
  for (uint8_t k = 0; k < v.op->input_count; ++k) {
    parts[k] = v.input(k);
    if (parts[k] == nullptr) return Status::kBadIndex;
  }
  return validate_join(*v.output(0), parts, v.op->input_count, *p);
}

void concatenation(const OpContext& ctx) {
  const JoinParams& p = ctx.params_as<JoinParams>();
  const TemTensor& whole = ctx.tensors[ctx.outputs[0]];
  const uint32_t outer = join_outer(whole, p.axis);
  auto* out = reinterpret_cast<uint8_t*>(ctx.output);
  for (uint32_t o = 0; o < outer; ++o) {
    for (uint8_t k = 0; k < ctx.op->input_count; ++k) {
      const uint32_t chunk = ctx.tensors[ctx.inputs[k]].bytes / outer;
      std::memcpy(out, ctx.data(ctx.inputs[k]) + static_cast<size_t>(o) * chunk, chunk);
      out += chunk;
    }
  }
}

}  // namespace

extern const KernelRegistration concatenation_kernel{
    Kernel::kConcatenation,
    InPlace::kNever,
    validate,
    concatenation,
    concatenation,
    TINYEDGE_KERNEL_TEXT("CONCATENATION, PACK"),
    TINYEDGE_KERNEL_TEXT("any type, rank <= 6, 1..32 inputs (activations or constants) of one quantisation with the "
                         "output; no fused activation")};

}  // namespace tinyedge::runtime::kernels
