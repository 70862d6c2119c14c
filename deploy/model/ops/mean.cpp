// MEAN and SUM (the MEAN kernel: int32 sum minus the zero points, one requantisation; for MEAN
// 1/count folded into the multiplier exactly as TFLite's QuantizedMeanOrSum does) and
// REDUCE_MAX (raw maximum; one quantisation in and out). Constant axes, keep_dims or not.
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "deploy/model/ops/data_op_helpers.h"
#include "deploy/model/quantize.h"
#include "node_firmware/runtime/kernels/reduce.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void import(const fb::Operator& op, Op& out, const std::string&) {
  if (const auto* o = op.builtin_options_as_ReducerOptions()) out.options.ints["keep_dims"] = o->keep_dims() ? 1 : 0;
}

struct Reduction {
  rt::ReduceParams params{};
  int64_t count = 1;  // input elements per output element
};

Reduction reduction(const LowerContext& c, const Tensor& in, const Tensor& out) {
  c.need_inputs(2);
  c.need_outputs(1);
  need_rank_at_most_6(c, in, c.in(0));
  Reduction r;
  for (int64_t a : constant_ints(c, c.in(1), "axes")) {
    const int32_t axis = resolve_axis(c, a, in.shape.size(), c.in(1));
    r.params.reduced[axis] = 1;
  }
  std::vector<int32_t> keep, drop;
  for (size_t d = 0; d < in.shape.size(); ++d) {
    if (r.params.reduced[d]) {
      r.count *= in.shape[d];
      keep.push_back(1);
    } else {
      keep.push_back(in.shape[d]);
      drop.push_back(in.shape[d]);
    }
  }
  const bool keep_dims = c.op().options.int_or("keep_dims", 0) != 0;
  if (out.shape != (keep_dims ? keep : drop)) {
    c.fail("output shape " + shape_text(out.shape) + " does not match the reduction " +
               shape_text(keep_dims ? keep : drop),
           c.out());
  }
  return r;
}

void lower_mean_or_sum(LowerContext& c, bool mean) {
  const DataType type = c.tensor(c.in(0)).type;
  if (!is_quantised_type(type)) c.fail(std::string(type_name(type)) + ": only int8 and int16 are supported", c.in(0));
  const Tensor& in = c.activation(c.in(0), type);
  const Tensor& out = c.activation(c.out(), type);
  Reduction r = reduction(c, in, out);
  r.params.input_zero_point = zp_of(in);
  r.params.output_zero_point = zp_of(out);
  int32_t m = 0;
  int shift = 0;
  quantize_multiplier(static_cast<double>(scale_of(in)) / static_cast<double>(scale_of(out)), &m, &shift);
  if (mean) {
    int fold = 63 - __builtin_clzll(static_cast<uint64_t>(r.count));
    fold = std::min(fold, 32);
    fold = std::min(fold, 31 + shift);
    m = static_cast<int32_t>((static_cast<int64_t>(m) << fold) / r.count);
    shift -= fold;
  }
  if (shift > 30 || shift < -31) c.fail("requantisation shift out of range");
  Lowered& l = c.emit(rt::Kernel::kMean);
  l.inputs = {c.in(0)};
  l.quant = {m, shift};
  l.quant_count = 1;
  l.set_params(r.params);
}

void lower_mean(LowerContext& c) { lower_mean_or_sum(c, true); }
void lower_sum(LowerContext& c) { lower_mean_or_sum(c, false); }

void lower_reduce_max(LowerContext& c) {
  const DataType type = c.tensor(c.in(0)).type;
  if (!is_quantised_type(type)) c.fail(std::string(type_name(type)) + ": only int8 and int16 are supported", c.in(0));
  const Tensor& in = c.activation(c.in(0), type);
  const Tensor& out = c.activation(c.out(), type);
  same_quantisation(c, in, out, c.out());
  const Reduction r = reduction(c, in, out);
  Lowered& l = c.emit(rt::Kernel::kReduceMax);
  l.inputs = {c.in(0)};
  l.set_params(r.params);
}

}  // namespace

std::vector<OpDef> mean_ops() {
  return {{40, "MEAN", import, lower_mean, nullptr},
          {74, "SUM", import, lower_sum, nullptr},
          {82, "REDUCE_MAX", import, lower_reduce_max, nullptr}};
}

}  // namespace tinyedge::model
