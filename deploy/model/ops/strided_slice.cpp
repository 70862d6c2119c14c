// STRIDED_SLICE and SLICE: begin/end/strides and the masks resolved offline, with TFLite's
// index rules (negative indices count from the end, clamped; begin/end masks take the whole
// range; shrink_axis keeps one element and drops the dim), into begin/stride/count per dim.
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "deploy/model/ops/data_op_helpers.h"
#include "node_firmware/runtime/kernels/layout_params.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void import_strided_slice(const fb::Operator& op, Op& out, const std::string& where) {
  if (const auto* o = op.builtin_options_as_StridedSliceOptions()) {
    if (o->ellipsis_mask() != 0 || o->new_axis_mask() != 0) {
      throw ImportError(where + ": STRIDED_SLICE with ellipsis_mask or new_axis_mask is not supported");
    }
    out.options.ints["begin_mask"] = o->begin_mask();
    out.options.ints["end_mask"] = o->end_mask();
    out.options.ints["shrink_axis_mask"] = o->shrink_axis_mask();
    out.options.ints["offset"] = o->offset() ? 1 : 0;
  }
}

int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

void emit(LowerContext& c, const Tensor& in, const Tensor& out, const rt::SliceParams& p,
          const std::vector<int32_t>& kept_shape) {
  if (kept_shape != out.shape) {
    c.fail("output shape " + shape_text(out.shape) + " does not match the slice " + shape_text(kept_shape), c.out());
  }
  (void)in;
  Lowered& l = c.emit(rt::Kernel::kStridedSlice);
  l.inputs = {c.in(0)};
  l.set_params(p);
}

rt::SliceParams identity_params() {
  rt::SliceParams p{};
  for (int d = 0; d < 6; ++d) p.stride[d] = 1, p.count[d] = 1;
  return p;
}

void lower_strided_slice(LowerContext& c) {
  c.need_inputs(4);
  c.need_outputs(1);
  const Tensor& in = moved(c, c.in(0));
  const Tensor& out = c.tensor(c.out());
  same_quantisation(c, in, out, c.out());
  need_rank_at_most_6(c, in, c.in(0));
  const auto begin = constant_ints(c, c.in(1), "begin");
  const auto end = constant_ints(c, c.in(2), "end");
  const auto strides = constant_ints(c, c.in(3), "strides");
  const size_t rank = in.shape.size();
  if (begin.size() > rank || end.size() != begin.size() || strides.size() != begin.size()) {
    c.fail("begin, end and strides must have one entry per sliced dim", c.in(1));
  }
  const OpOptions& o = c.op().options;
  const int64_t begin_mask = o.int_or("begin_mask", 0), end_mask = o.int_or("end_mask", 0);
  const int64_t shrink = o.int_or("shrink_axis_mask", 0);
  const bool offset = o.int_or("offset", 0) != 0;
  rt::SliceParams p = identity_params();
  std::vector<int32_t> kept;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t size = in.shape[d];
    if (d >= begin.size()) {  // dims past the given ones are taken whole
      p.count[d] = static_cast<uint32_t>(size);
      kept.push_back(static_cast<int32_t>(size));
      continue;
    }
    const int64_t stride = strides[d];
    if (stride == 0) c.fail("stride 0", c.in(3));
    int64_t start = begin[d];
    if (start < 0) start += size;
    start = stride > 0 ? clamp(start, 0, size) : clamp(start, -1, size - 1);
    if (begin_mask & (int64_t{1} << d)) start = stride > 0 ? 0 : size - 1;
    int64_t stop;
    const bool shrink_d = shrink & (int64_t{1} << d);
    if (shrink_d) {
      stop = start >= size ? start : start + 1;
    } else {
      stop = end[d] + (offset ? start : 0);
      if (stop < 0) stop += size;
      stop = stride > 0 ? clamp(stop, 0, size) : clamp(stop, -1, size - 1);
      if (end_mask & (int64_t{1} << d)) stop = stride > 0 ? size : -1;
    }
    const int64_t count =
        stride > 0 ? (stop - start + stride - 1) / stride : (start - stop + (-stride) - 1) / (-stride);
    if (count <= 0)
      c.fail("empty slice along dim " + std::to_string(d) + " (empty tensors are not supported)", c.out());
    p.begin[d] = static_cast<int32_t>(start);
    p.stride[d] = static_cast<int32_t>(shrink_d ? 1 : stride);
    p.count[d] = static_cast<uint32_t>(count);
    if (!shrink_d) kept.push_back(static_cast<int32_t>(count));
  }
  emit(c, in, out, p, kept);
}

void lower_slice(LowerContext& c) {
  c.need_inputs(3);
  c.need_outputs(1);
  const Tensor& in = moved(c, c.in(0));
  const Tensor& out = c.tensor(c.out());
  same_quantisation(c, in, out, c.out());
  need_rank_at_most_6(c, in, c.in(0));
  const auto begin = constant_ints(c, c.in(1), "begin");
  const auto size = constant_ints(c, c.in(2), "size");
  const size_t rank = in.shape.size();
  if (begin.size() != rank || size.size() != rank) c.fail("begin and size must have one entry per dim", c.in(1));
  rt::SliceParams p = identity_params();
  std::vector<int32_t> kept;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t count = size[d] == -1 ? in.shape[d] - begin[d] : size[d];
    if (begin[d] < 0 || count < 1 || begin[d] + count > in.shape[d])
      c.fail("slice outside the input along dim " + std::to_string(d), c.in(1));
    p.begin[d] = static_cast<int32_t>(begin[d]);
    p.count[d] = static_cast<uint32_t>(count);
    kept.push_back(static_cast<int32_t>(count));
  }
  emit(c, in, out, p, kept);
}

}  // namespace

std::vector<OpDef> strided_slice_ops() {
  return {{45, "STRIDED_SLICE", import_strided_slice, lower_strided_slice, nullptr},
          {65, "SLICE", nullptr, lower_slice, nullptr}};
}

}  // namespace tinyedge::model
