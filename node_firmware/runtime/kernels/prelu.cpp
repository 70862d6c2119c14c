// PRELU, int8 and int16 input with int8 alpha (TFLite's BroadcastPrelu4DSlow): x >= 0 rescaled by
// input_scale / output_scale, x < 0 multiplied by its alpha and rescaled by
// input_scale * alpha_scale / output_scale. Alpha broadcasts against the output (dims aligned
// from the right, each 1 or equal), e.g. one slope per channel.
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/unary.h"

namespace tinyedge::runtime::kernels {
namespace {

// Quant table: [0] input/output scale, [1] input*alpha/output scale.
struct PreluParams {
  int32_t input_offset;  // -input zero point
  int32_t alpha_offset;  // -alpha zero point
  int32_t output_offset;
};
static_assert(sizeof(PreluParams) == 12);

// The tensor's dims right-aligned into four (leading 1s), as TFLite broadcasting sees them.
void dims4(const TemTensor& t, int32_t d[4]) {
  for (int k = 0; k < 4; ++k) d[k] = 1;
  for (int k = 0; k < t.rank; ++k) d[4 - t.rank + k] = static_cast<int32_t>(t.dims[k]);
}

Status validate(const ValidateContext& v) {
  if (v.op->input_count != 2 || v.op->output_count != 1) return Status::kBadOp;
  const bool int8 = v.input_is_activation(0, TemType::kInt8);
  const bool int16 = v.input_is_activation(0, TemType::kInt16);
  const TemTensor* alpha = v.input(1);
  const TemTensor& in = *v.input(0);
  const TemTensor& out = *v.output(0);
  if ((!int8 && !int16) || out.type != in.type || alpha == nullptr ||
      alpha->type != static_cast<uint8_t>(TemType::kInt8)) {
    return Status::kBadIndex;
  }
  if (in.rank > 4 || alpha->rank > 4 || out.rank != in.rank) return Status::kBadShape;
  for (int k = 0; k < in.rank; ++k) {
    if (in.dims[k] != out.dims[k]) return Status::kBadShape;
  }
  int32_t a[4], o[4];
  dims4(*alpha, a);
  dims4(out, o);
  if (alpha->rank > out.rank) return Status::kBadShape;
  for (int k = 0; k < 4; ++k) {
    if (a[k] != 1 && a[k] != o[k]) return Status::kBadShape;
  }
  const PreluParams* p = v.params<PreluParams>();
  if (p == nullptr) return Status::kBadParams;
  const int32_t lo = type_min(in.type), hi = type_max(in.type);
  // input_offset is minus a zero point in [lo, hi]; compared without negating it (INT32_MIN).
  if (p->input_offset < -hi || p->input_offset > -lo || p->output_offset < lo || p->output_offset > hi ||
      p->alpha_offset < -127 || p->alpha_offset > 128) {
    return Status::kBadParams;
  }
  if (v.op->packed_bytes != 0) return Status::kBadParams;
  return v.quant_table(2, 2, false);
}

template <class T>
void prelu_typed(const OpContext& ctx) {
  const PreluParams& p = ctx.params_as<PreluParams>();
  const TemTensor& out_t = ctx.tensors[ctx.outputs[0]];
  int32_t o[4], a[4];
  dims4(out_t, o);
  dims4(ctx.tensors[ctx.inputs[1]], a);
  // Strides of alpha in output coordinates (0 along broadcast dims).
  int32_t stride[4];
  int32_t s = 1;
  for (int k = 3; k >= 0; --k) {
    stride[k] = a[k] == 1 ? 0 : s;
    s *= a[k];
  }
  const T* in = reinterpret_cast<const T*>(ctx.data(ctx.inputs[0]));
  const int8_t* alpha = reinterpret_cast<const int8_t*>(ctx.data(ctx.inputs[1]));
  T* out = reinterpret_cast<T*>(ctx.mutable_data(ctx.outputs[0]));
  const int32_t lo = type_min(out_t.type), hi = type_max(out_t.type);
  size_t i = 0;
  for (int32_t d0 = 0; d0 < o[0]; ++d0) {
    for (int32_t d1 = 0; d1 < o[1]; ++d1) {
      for (int32_t d2 = 0; d2 < o[2]; ++d2) {
        for (int32_t d3 = 0; d3 < o[3]; ++d3, ++i) {
          const int32_t x = p.input_offset + in[i];
          int32_t y;
          if (x >= 0) {
            y = fx::multiply_by_quantized_multiplier(x, ctx.multipliers[0], ctx.shifts[0]);
          } else {
            const int32_t slope =
                p.alpha_offset + alpha[d0 * stride[0] + d1 * stride[1] + d2 * stride[2] + d3 * stride[3]];
            y = fx::multiply_by_quantized_multiplier(x * slope, ctx.multipliers[1], ctx.shifts[1]);
          }
          out[i] = static_cast<T>(fx::clamp(fx::wrap_add(y, p.output_offset), lo, hi));
        }
      }
    }
  }
}

void prelu(const OpContext& ctx) {
  is_int16(ctx, ctx.inputs[0]) ? prelu_typed<int16_t>(ctx) : prelu_typed<int8_t>(ctx);
}

}  // namespace

extern const KernelRegistration prelu_kernel{
    Kernel::kPrelu,
    InPlace::kSameOffset,
    validate,
    prelu,
    prelu,
    TINYEDGE_KERNEL_TEXT("PRELU"),
    TINYEDGE_KERNEL_TEXT("int8 or int16 input and output of the same shape (rank <= 4), int8 alpha broadcast "
                         "against it (dims from the right, 1 or equal); own output quantisation")};

}  // namespace tinyedge::runtime::kernels
