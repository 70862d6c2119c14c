// DEQUANTIZE: int8/int16 -> float32, (x - zero_point) * scale computed in double and rounded
// once to float, as TFLite does (typically at a graph's float output).
#include <cmath>

#include "node_firmware/runtime/kernels/layout_params.h"
#include "node_firmware/runtime/kernels/nd.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) {
  if (v.op->input_count != 1 || v.op->output_count != 1) return Status::kBadOp;
  const TemTensor* in = v.input(0);
  const TemTensor& out = *v.output(0);
  if (in == nullptr || !is_int8_or_int16(*in) || !is_type(out, TemType::kFloat32)) return Status::kBadIndex;
  if (in->bytes / element_bytes(in->type) != out.bytes / 4) return Status::kBadShape;
  const ConvertParams* p = v.params<ConvertParams>();
  if (p == nullptr || v.op->packed_bytes != 0 || v.op->quant_count != 0) return Status::kBadParams;
  if (!(p->scale > 0.0f) || !std::isfinite(p->scale) || p->zero_point < type_min(*in) ||
      p->zero_point > type_max(*in)) {
    return Status::kBadQuantization;
  }
  return Status::kOk;
}

template <class In>
void dequantize_typed(const OpContext& ctx) {
  const ConvertParams& p = ctx.params_as<ConvertParams>();
  const auto* in = reinterpret_cast<const In*>(ctx.data(ctx.inputs[0]));
  auto* out = reinterpret_cast<float*>(ctx.output);
  const uint32_t n = ctx.tensors[ctx.outputs[0]].bytes / 4;
  const double scale = p.scale;
  for (uint32_t i = 0; i < n; ++i) out[i] = static_cast<float>(scale * (in[i] - p.zero_point));
}

void dequantize(const OpContext& ctx) {
  if (ctx.tensors[ctx.inputs[0]].type == static_cast<uint8_t>(TemType::kInt16)) {
    dequantize_typed<int16_t>(ctx);
  } else {
    dequantize_typed<int8_t>(ctx);
  }
}

}  // namespace

extern const KernelRegistration dequantize_kernel{Kernel::kDequantize,
                                                  InPlace::kNever,
                                                  validate,
                                                  dequantize,
                                                  dequantize,
                                                  TINYEDGE_KERNEL_TEXT("DEQUANTIZE"),
                                                  TINYEDGE_KERNEL_TEXT("int8/int16 -> float32, per-tensor")};

}  // namespace tinyedge::runtime::kernels
