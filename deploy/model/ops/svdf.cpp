// SVDF (int8 input/weights_feature/output, int16 or int8 weights_time and state, as TFLite Micro
// quantises it): the state is TFLite's variable tensor, planned as a persistent tensor.
#include <cmath>

#include "deploy/model/lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "deploy/model/quantize.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

// Byte for byte the runtime's params (node_firmware/runtime/kernels/svdf.cpp).
struct SvdfParams {
  int32_t rank;
  int32_t input_zero_point;
  int32_t state_zero_point;
  int32_t output_zero_point;
  int32_t feature_multiplier, feature_shift;
  int32_t output_multiplier, output_shift;
};

void import(const fb::Operator& op, Op& out, const std::string& where) {
  const auto* o = op.builtin_options_as_SVDFOptions();
  if (!o) throw ImportError(where + ": missing options");
  out.options.ints["rank"] = o->rank();
  out.options.activation = fused_activation(o->fused_activation_function(), where);
}

void lower(LowerContext& c) {
  c.need_inputs(5);
  c.need_outputs(1);
  const Tensor& in = c.activation(c.in(0), DataType::kInt8);
  const Tensor& wf = c.constant(c.in(1), DataType::kInt8);
  // Time weights and state share a type: int16 (TFLite Micro's 8x16 SVDF) or int8.
  const DataType state_type =
      c.in(2) >= 0 && c.tensor(c.in(2)).type == DataType::kInt8 ? DataType::kInt8 : DataType::kInt16;
  const Tensor& wt = c.constant(c.in(2), state_type);
  const Tensor& state = c.activation(c.in(4), state_type);
  const Tensor& out = c.activation(c.out(), DataType::kInt8);
  if (!state.persistent) c.fail("the activation state must be a variable (persistent) tensor", c.in(4));
  const int64_t rank = c.op().options.int_or("rank", 0);
  if (in.shape.size() != 2 || wf.shape.size() != 2 || wt.shape.size() != 2 || out.shape.size() != 2 ||
      state.shape.size() != 2) {
    c.fail("SVDF takes 2-D input, weights, state and output");
  }
  const int32_t batch = in.shape[0], n_input = in.shape[1], n_filter = wf.shape[0], n_memory = wt.shape[1];
  if (rank < 1 || n_filter % rank != 0) c.fail("rank must divide the number of filters");
  const int32_t n_unit = n_filter / static_cast<int32_t>(rank);
  if (wf.shape[1] != n_input) c.fail("weights_feature must be [filters, inputs]", c.in(1));
  if (wt.shape[0] != n_filter) c.fail("weights_time must be [filters, memory]", c.in(2));
  if (out.shape[0] != batch || out.shape[1] != n_unit) c.fail("output must be [batch, filters / rank]", c.out());
  if (state.shape[0] != batch || state.shape[1] != n_filter * n_memory) {
    c.fail("state must be [batch, filters * memory]", c.in(4));
  }
  for (const Tensor* w : {&wf, &wt}) {
    if (w->quant.scales.size() != 1 || zp_of(*w) != 0) c.fail("weights need per-tensor symmetric quantisation");
  }
  if (c.in(3) >= 0) {
    const Tensor& bias = c.constant(c.in(3), DataType::kInt32);
    if (bias.element_count() != static_cast<size_t>(n_unit)) c.fail("bias must have one value per unit", c.in(3));
    // TFLite Micro's check: bias scale = state scale * time weights scale.
    if (std::abs(static_cast<double>(scale_of(bias)) - static_cast<double>(scale_of(state) * scale_of(wt))) >= 1e-5) {
      c.fail("bias scale must equal state scale * weights_time scale", c.in(3));
    }
  }
  SvdfParams p{};
  p.rank = static_cast<int32_t>(rank);
  p.input_zero_point = zp_of(in);
  p.state_zero_point = zp_of(state);
  p.output_zero_point = zp_of(out);
  // The scale products are taken in float, as TFLite Micro's SVDF prepare does.
  const double feature = static_cast<double>(scale_of(in) * scale_of(wf) / scale_of(state));
  const double time = static_cast<double>(scale_of(state) * scale_of(wt) / scale_of(out));
  if (!std::isfinite(feature) || !std::isfinite(time) || feature < 0 || time < 0) c.fail("non-finite SVDF scales");
  int s1 = 0, s2 = 0;
  quantize_multiplier(feature, &p.feature_multiplier, &s1);
  quantize_multiplier(time, &p.output_multiplier, &s2);
  if (s1 < -31 || s1 > 30 || s2 < -31 || s2 > 30) c.fail("SVDF requantisation shift out of range");
  p.feature_shift = s1;
  p.output_shift = s2;
  Lowered& l = c.emit(rt::Kernel::kSvdf);
  l.set_params(p);
}

}  // namespace

std::vector<OpDef> svdf_ops() { return {{27, "SVDF", import, lower, nullptr}}; }

}  // namespace tinyedge::model
