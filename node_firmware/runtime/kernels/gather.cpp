// GATHER: slices of input 0 (any type) picked along `axis` by int32 indices (input 1), with
// batch_dims leading dims shared by both. Constant indices are range-checked at load; indices
// computed at run time that fall outside the axis yield a zeroed slice (TFLite fails the invoke).
#include <cstring>

#include "node_firmware/runtime/kernels/layout_params.h"
#include "node_firmware/runtime/kernels/nd.h"

namespace tinyedge::runtime::kernels {
namespace {

struct Geometry {
  uint32_t batches = 1, outer = 1, axis_size = 1, per_batch_indices = 1, inner_bytes = 1;
};

Geometry geometry_of(const TemTensor& data, const TemTensor& indices, const GatherParams& p) {
  Geometry g;
  for (int d = 0; d < p.batch_dims; ++d) g.batches *= data.dims[d];
  for (int d = p.batch_dims; d < p.axis; ++d) g.outer *= data.dims[d];
  g.axis_size = data.dims[p.axis];
  g.inner_bytes = element_bytes(data.type);
  for (int d = p.axis + 1; d < data.rank; ++d) g.inner_bytes *= data.dims[d];
  for (int d = p.batch_dims; d < indices.rank; ++d) g.per_batch_indices *= indices.dims[d];
  return g;
}

Status validate(const ValidateContext& v) {
  if (v.op->input_count != 2 || v.op->output_count != 1) return Status::kBadOp;
  const TemTensor* data = v.input(0);
  const TemTensor* indices = v.input(1);
  const TemTensor& out = *v.output(0);
  if (data == nullptr || indices == nullptr || !same_type(*data, out) || !is_type(*indices, TemType::kInt32)) {
    return Status::kBadIndex;
  }
  if (data->zero_point != out.zero_point) return Status::kBadQuantization;
  const GatherParams* p = v.params<GatherParams>();
  if (p == nullptr || v.op->quant_count != 0 || v.op->packed_bytes != 0) return Status::kBadParams;
  if (p->axis < 0 || p->axis >= data->rank || p->batch_dims < 0 || p->batch_dims > p->axis ||
      p->batch_dims > indices->rank) {
    return Status::kBadParams;
  }
  // Output dims: data[:axis] ++ indices[batch_dims:] ++ data[axis+1:].
  uint32_t expect[2 * kMaxRank];
  int n = 0;
  for (int d = 0; d < p->batch_dims; ++d) {
    if (indices->dims[d] != data->dims[d]) return Status::kBadShape;
  }
  for (int d = 0; d < p->axis; ++d) expect[n++] = data->dims[d];
  for (int d = p->batch_dims; d < indices->rank; ++d) expect[n++] = indices->dims[d];
  for (int d = p->axis + 1; d < data->rank; ++d) expect[n++] = data->dims[d];
  if (n != out.rank) return Status::kBadShape;
  for (int d = 0; d < n; ++d) {
    if (expect[d] != out.dims[d]) return Status::kBadShape;
  }
  if (indices->flags & kTensorConstant) {
    const auto* idx = reinterpret_cast<const int32_t*>(v.blob.data() + indices->offset);
    for (uint32_t k = 0; k < indices->bytes / 4; ++k) {
      if (idx[k] < 0 || static_cast<uint32_t>(idx[k]) >= data->dims[p->axis]) return Status::kBadParams;
    }
  }
  return Status::kOk;
}

void gather(const OpContext& ctx) {
  const GatherParams& p = ctx.params_as<GatherParams>();
  const TemTensor& data = ctx.tensors[ctx.inputs[0]];
  const Geometry g = geometry_of(data, ctx.tensors[ctx.inputs[1]], p);
  const uint8_t* src = ctx.data(ctx.inputs[0]);
  const auto* idx = reinterpret_cast<const int32_t*>(ctx.data(ctx.inputs[1]));
  uint8_t* out = ctx.mutable_data(ctx.outputs[0]);
  for (uint32_t b = 0; b < g.batches; ++b) {
    for (uint32_t o = 0; o < g.outer; ++o) {
      const uint8_t* slab = src + (static_cast<size_t>(b) * g.outer + o) * g.axis_size * g.inner_bytes;
      for (uint32_t k = 0; k < g.per_batch_indices; ++k) {
        const int32_t i = idx[static_cast<size_t>(b) * g.per_batch_indices + k];
        if (i >= 0 && static_cast<uint32_t>(i) < g.axis_size) {
          std::memcpy(out, slab + static_cast<size_t>(i) * g.inner_bytes, g.inner_bytes);
        } else {
          std::memset(out, 0, g.inner_bytes);
        }
        out += g.inner_bytes;
      }
    }
  }
}

}  // namespace

extern const KernelRegistration gather_kernel{
    Kernel::kGather,
    InPlace::kNever,
    validate,
    gather,
    gather,
    TINYEDGE_KERNEL_TEXT("GATHER"),
    TINYEDGE_KERNEL_TEXT("any type, rank <= 6; int32 indices (constant: range-checked at load); batch_dims <= axis")};

}  // namespace tinyedge::runtime::kernels
