// STRIDED_SLICE and SLICE (the compiler lowers both here, masks, negative indices and
// shrink_axis resolved offline into begin/stride/count per input dim): any element type,
// rank <= 6, output of the input's quantisation.
#include "node_firmware/runtime/kernels/layout_params.h"
#include "node_firmware/runtime/kernels/nd.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) {
  if (v.op->input_count != 1 || v.op->output_count != 1) return Status::kBadOp;
  const TemTensor* in = v.input(0);
  const TemTensor& out = *v.output(0);
  if (in == nullptr || !same_type(*in, out)) return Status::kBadIndex;
  if (in->zero_point != out.zero_point) return Status::kBadQuantization;
  const SliceParams* p = v.params<SliceParams>();
  if (p == nullptr || v.op->quant_count != 0 || v.op->packed_bytes != 0) return Status::kBadParams;
  uint64_t elements = 1;
  for (int d = 0; d < kMaxRank; ++d) {
    if (d >= in->rank) {
      if (p->begin[d] != 0 || p->stride[d] != 1 || p->count[d] != 1) return Status::kBadParams;
      continue;
    }
    const int64_t dim = in->dims[d];
    const int64_t first = p->begin[d];
    const int64_t last = first + (static_cast<int64_t>(p->count[d]) - 1) * p->stride[d];
    if (p->stride[d] == 0 || p->count[d] == 0 || p->count[d] > in->dims[d]) return Status::kBadParams;
    if (first < 0 || first >= dim || last < 0 || last >= dim) return Status::kBadParams;
    elements *= p->count[d];
  }
  return elements * element_bytes(out.type) == out.bytes ? Status::kOk : Status::kBadShape;
}

template <class T>
void slice_typed(const OpContext& ctx) {
  const SliceParams& p = ctx.params_as<SliceParams>();
  const TemTensor& ti = ctx.tensors[ctx.inputs[0]];
  const auto* in = reinterpret_cast<const T*>(ctx.data(ctx.inputs[0]));
  auto* out = reinterpret_cast<T*>(ctx.output);
  const int rank = ti.rank > 0 ? ti.rank : 1;
  const NdShape si = extended(nd_shape(ti), rank);
  int64_t strides[kMaxRank], step[kMaxRank];
  strides_of(si, strides);
  int64_t offset = 0;
  for (int d = 0; d < rank; ++d) {
    step[d] = strides[d] * p.stride[d];
    offset += strides[d] * p.begin[d];
  }
  const int last = rank - 1;
  const auto inner = static_cast<int32_t>(p.count[last]);
  const int64_t inner_step = step[last];
  int64_t rows = 1;
  for (int d = 0; d < last; ++d) rows *= p.count[d];
  uint32_t index[kMaxRank] = {0, 0, 0, 0, 0, 0};
  for (int64_t r = 0; r < rows; ++r) {
    for (int32_t i = 0; i < inner; ++i) out[i] = in[offset + i * inner_step];
    out += inner;
    for (int d = last - 1; d >= 0; --d) {
      if (++index[d] < p.count[d]) {
        offset += step[d];
        break;
      }
      index[d] = 0;
      offset -= step[d] * (p.count[d] - 1);
    }
  }
}

void strided_slice(const OpContext& ctx) {
  switch (element_bytes(ctx.tensors[ctx.outputs[0]].type)) {
    case 1:
      slice_typed<uint8_t>(ctx);
      break;
    case 2:
      slice_typed<uint16_t>(ctx);
      break;
    case 4:
      slice_typed<uint32_t>(ctx);
      break;
    default:
      slice_typed<uint64_t>(ctx);
      break;
  }
}

}  // namespace

extern const KernelRegistration strided_slice_kernel{
    Kernel::kStridedSlice,
    InPlace::kNever,
    validate,
    strided_slice,
    strided_slice,
    TINYEDGE_KERNEL_TEXT("STRIDED_SLICE, SLICE"),
    TINYEDGE_KERNEL_TEXT("any type, rank <= 6, constant begin/end/strides and masks (folded by the compiler; "
                         "ellipsis and new_axis masks refused), input and output of one quantisation")};

}  // namespace tinyedge::runtime::kernels
