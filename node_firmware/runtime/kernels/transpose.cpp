// TRANSPOSE: output dim d is input dim perm[d]; any element type, rank <= 6. The output is
// written in order while the input is read through permuted strides, the innermost output dim
// in a tight loop.
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
  const TransposeParams* p = v.params<TransposeParams>();
  if (p == nullptr || v.op->quant_count != 0 || v.op->packed_bytes != 0) return Status::kBadParams;
  if (in->rank != out.rank) return Status::kBadShape;
  bool seen[kMaxRank] = {};
  for (int d = 0; d < kMaxRank; ++d) {
    const uint8_t from = p->perm[d];
    if (d >= in->rank) {
      if (from != d) return Status::kBadParams;
      continue;
    }
    if (from >= in->rank || seen[from]) return Status::kBadParams;
    seen[from] = true;
    if (out.dims[d] != in->dims[from]) return Status::kBadShape;
  }
  if (in->zero_point != out.zero_point) return Status::kBadQuantization;
  return Status::kOk;
}

template <class T>
void transpose_typed(const OpContext& ctx) {
  const TransposeParams& p = ctx.params_as<TransposeParams>();
  const TemTensor& ti = ctx.tensors[ctx.inputs[0]];
  const TemTensor& to = ctx.tensors[ctx.outputs[0]];
  const auto* in = reinterpret_cast<const T*>(ctx.input);
  auto* out = reinterpret_cast<T*>(ctx.output);
  const int rank = ti.rank;
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  const NdShape si = nd_shape(ti);
  const NdShape so = nd_shape(to);
  int64_t in_strides[kMaxRank], step[kMaxRank];
  strides_of(si, in_strides);
  for (int d = 0; d < rank; ++d) step[d] = in_strides[p.perm[d]];  // input step per output index
  const int last = rank - 1;
  const int32_t inner = so.dims[last];
  const int64_t inner_step = step[last];
  const int64_t n = so.elements();
  int32_t index[kMaxRank] = {0, 0, 0, 0, 0, 0};
  int64_t offset = 0;
  for (int64_t done = 0; done < n; done += inner) {
    const T* src = in + offset;
    for (int32_t i = 0; i < inner; ++i) out[i] = src[i * inner_step];
    out += inner;
    for (int d = last - 1; d >= 0; --d) {
      if (++index[d] < so.dims[d]) {
        offset += step[d];
        break;
      }
      index[d] = 0;
      offset -= step[d] * (so.dims[d] - 1);
    }
  }
}

void transpose(const OpContext& ctx) {
  switch (element_bytes(ctx.tensors[ctx.outputs[0]].type)) {
    case 1:
      transpose_typed<uint8_t>(ctx);
      break;
    case 2:
      transpose_typed<uint16_t>(ctx);
      break;
    case 4:
      transpose_typed<uint32_t>(ctx);
      break;
    default:
      transpose_typed<uint64_t>(ctx);
      break;
  }
}

}  // namespace

extern const KernelRegistration transpose_kernel{
    Kernel::kTranspose,
    InPlace::kNever,
    validate,
    transpose,
    transpose,
    TINYEDGE_KERNEL_TEXT("TRANSPOSE"),
    TINYEDGE_KERNEL_TEXT("any type, rank <= 6, constant permutation (folded by the compiler); input and output of "
                         "one quantisation")};

}  // namespace tinyedge::runtime::kernels
