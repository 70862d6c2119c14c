// FULLY_CONNECTED (int8, per-tensor or per-channel weights [units, depth]); 16x8: int16 input and
// output with zero point 0, int8 weights, int64 or int32 bias or none, no packing.
#include "deploy/model/basic_lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "node_firmware/runtime/kernels/dsp_blocked_filter.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void import(const fb::Operator& op, Op& out, const std::string& where) {
  const auto* o = op.builtin_options_as_FullyConnectedOptions();
  if (!o) return;
  if (o->weights_format() != 0) throw ImportError(where + ": shuffled FC weights are not supported");
  out.options.activation = fused_activation(o->fused_activation_function(), where);
}

void lower_16x8(LowerContext& c) {
  if (c.op().inputs.size() != 2 && c.op().inputs.size() != 3) c.fail("expects 2 or 3 inputs");
  const Tensor& in = c.activation(c.in(0), DataType::kInt16);
  const Tensor& filter = c.constant(c.in(1), DataType::kInt8);
  const Tensor& out = c.activation(c.out(), DataType::kInt16);
  if (zp_of(in) != 0) c.fail("16x8: int16 input zero point must be 0", c.in(0));
  if (zp_of(out) != 0) c.fail("16x8: int16 output zero point must be 0", c.out());
  if (filter.shape.size() != 2) c.fail("filter must be [units, depth]", c.in(1));
  const int32_t units = filter.shape[0], depth = filter.shape[1];
  if (in.element_count() % depth != 0) c.fail("input size is not a multiple of the filter depth", c.in(0));
  if (out.element_count() != in.element_count() / depth * units || out.shape.back() != units) {
    c.fail("output shape does not match [batches, units]", c.out());
  }
  if (c.in(2) >= 0) {
    const Tensor& bias = c.tensor(c.in(2));
    if (!bias.is_constant() || (bias.type != DataType::kInt64 && bias.type != DataType::kInt32)) {
      c.fail("16x8 bias must be constant int64 (or int32)", c.in(2));
    }
    if (bias.element_count() != static_cast<size_t>(units)) c.fail("bias must have one value per unit", c.in(2));
  }
  Lowered& l = c.emit(rt::Kernel::kFullyConnected);
  if (l.inputs.size() < 3) l.inputs.resize(3, -1);
  rt::BasicOpParams p{};
  p.depth_multiplier = 1;
  set_common(p, in, out, c.op().options.activation);
  conv_quant(c, l, in, filter, out, units, true);
  for (uint32_t k = 0; k < l.quant_count; ++k) {
    if (l.quant[l.quant_count + k] > 7) c.fail("16x8 requantisation scale too large (shift above 7)", c.out());
  }
  l.set_params(p);
}

void lower(LowerContext& c) {
  c.need_outputs(1);
  if (c.in(0) >= 0 && c.tensor(c.in(0)).type == DataType::kInt16) return lower_16x8(c);
  c.need_inputs(3);
  const Tensor& in = c.activation(c.in(0));
  const Tensor& filter = c.constant(c.in(1), DataType::kInt8);
  const Tensor& bias = c.constant(c.in(2), DataType::kInt32);
  const Tensor& out = c.activation(c.out());
  if (filter.shape.size() != 2) c.fail("filter must be [units, depth]", c.in(1));
  const int32_t units = filter.shape[0], depth = filter.shape[1];
  if (in.element_count() % depth != 0) c.fail("input size is not a multiple of the filter depth", c.in(0));
  if (out.element_count() != in.element_count() / depth * units || out.shape.back() != units) {
    c.fail("output shape does not match [batches, units]", c.out());
  }
  if (bias.element_count() != static_cast<size_t>(units)) c.fail("bias must have one value per unit", c.in(2));
  Lowered& l = c.emit(rt::Kernel::kFullyConnected);
  rt::BasicOpParams p{};
  p.depth_multiplier = 1;
  set_common(p, in, out, c.op().options.activation);
  conv_quant(c, l, in, filter, out, units, true);
  std::vector<int64_t> sums(units, 0);
  const auto* w = reinterpret_cast<const int8_t*>(filter.data.data());
  for (int32_t u = 0; u < units; ++u) {
    for (int32_t d = 0; d < depth; ++d) sums[u] += w[u * depth + d];
  }
  l.append_packed(fold_bias(bias, p.input_offset, sums));
  append_output_scales(l, units);
  p.packing = static_cast<uint8_t>(rt::TemPacking::kBiasScales);
  if (c.options().m4_blocked_weights && depth >= 4) {
    std::vector<uint8_t> blocked(filter.data.size());
    rt::dsp::block_filter(w, units, depth, rt::dsp::kFcBlock, reinterpret_cast<int8_t*>(blocked.data()));
    l.reordered_inputs.emplace_back(1, std::move(blocked));
    p.packing = static_cast<uint8_t>(rt::TemPacking::kBiasScalesBlockedFilter);
    p.reserved[0] = static_cast<uint8_t>(rt::dsp::kFcBlock);
  }
  l.set_params(p);
}

}  // namespace

std::vector<OpDef> fully_connected_ops() { return {{9, "FULLY_CONNECTED", import, lower, nullptr}}; }

}  // namespace tinyedge::model
