// PAD and PADV2 (the compiler lowers both here): the input copied into the middle of the output,
// everything else set to pad_value (PAD: the output zero point; PADV2: its constant value).
// Any element type, rank <= 6. The innermost run of each row is one memcpy.
#include <cstring>

#include "node_firmware/runtime/kernels/layout_params.h"
#include "node_firmware/runtime/kernels/nd.h"

namespace tinyedge::runtime::kernels {

namespace {

Status validate(const ValidateContext& v) {
  if (v.op->input_count != 1 || v.op->output_count != 1) return Status::kBadOp;
  const TemTensor* in = v.input(0);
  const TemTensor& out = *v.output(0);
  if (in == nullptr || !same_type(*in, out)) return Status::kBadIndex;
  if (in->rank != out.rank) return Status::kBadShape;
  const PadParams* p = v.params<PadParams>();
  if (p == nullptr || v.op->quant_count != 0 || v.op->packed_bytes != 0) return Status::kBadParams;
  for (int d = 0; d < kMaxRank; ++d) {
    if (d >= in->rank) {
      if (p->before[d] != 0) return Status::kBadParams;
      continue;
    }
    if (p->before[d] > out.dims[d] || out.dims[d] - p->before[d] < in->dims[d]) return Status::kBadShape;
  }
  if (is_int8_or_int16(out) && (p->pad_value < type_min(out) || p->pad_value > type_max(out))) {
    return Status::kBadParams;
  }
  if (is_int8_or_int16(out) && in->zero_point != out.zero_point) return Status::kBadQuantization;
  return Status::kOk;
}

void fill(uint8_t* dst, int64_t count, uint32_t size, int32_t value) {
  if (size == 1) {
    std::memset(dst, static_cast<uint8_t>(value), static_cast<size_t>(count));
    return;
  }
  const int64_t wide = value;  // little-endian: the low `size` bytes are the value in that type
  for (int64_t i = 0; i < count; ++i) std::memcpy(dst + i * size, &wide, size);
}

void pad(const OpContext& ctx) {
  const PadParams& p = ctx.params_as<PadParams>();
  const TemTensor& ti = ctx.tensors[ctx.inputs[0]];
  const TemTensor& to = ctx.tensors[ctx.outputs[0]];
  const uint32_t size = element_bytes(to.type);
  auto* out = reinterpret_cast<uint8_t*>(ctx.output);
  const auto* in = reinterpret_cast<const uint8_t*>(ctx.input);
  fill(out, to.bytes / size, size, p.pad_value);
  // Copy every input row (innermost dim) to its place in the output.
  const int rank = ti.rank > 0 ? ti.rank : 1;
  const NdShape si = extended(nd_shape(ti), rank);
  const NdShape so = extended(nd_shape(to), rank);
  int64_t so_strides[kMaxRank];
  strides_of(so, so_strides);
  const int last = rank - 1;
  const uint32_t row_bytes = static_cast<uint32_t>(si.dims[last]) * size;
  int64_t base = 0;
  for (int d = 0; d < rank; ++d) base += static_cast<int64_t>(ti.rank > 0 ? p.before[d] : 0) * so_strides[d];
  int32_t index[kMaxRank] = {0, 0, 0, 0, 0, 0};
  int64_t offset = base;
  const int64_t rows = si.elements() / si.dims[last];
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(out + offset * size, in + r * row_bytes, row_bytes);
    for (int d = last - 1; d >= 0; --d) {
      if (++index[d] < si.dims[d]) {
        offset += so_strides[d];
        break;
      }
      index[d] = 0;
      offset -= so_strides[d] * (si.dims[d] - 1);
    }
  }
}

}  // namespace

extern const KernelRegistration pad_kernel{
    Kernel::kPad,
    InPlace::kNever,
    validate,
    pad,
    pad,
    TINYEDGE_KERNEL_TEXT("PAD, PADV2"),
    TINYEDGE_KERNEL_TEXT("any type, rank <= 6, constant paddings (folded by the compiler); input and output of one "
                         "quantisation; pad value: the zero point (PAD) or the constant (PADV2)")};

}  // namespace tinyedge::runtime::kernels
