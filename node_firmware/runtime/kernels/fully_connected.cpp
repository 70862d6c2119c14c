// FULLY_CONNECTED, int8 (TFLite reference_integer_ops::FullyConnected semantics); the optimised
// version adds the compiler's folded bias and runs four units per pass over the input.
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/basic_validate.h"
#include "node_firmware/runtime/kernels/conv_16x8.h"
#include "node_firmware/runtime/kernels/dot.h"
#include "node_firmware/runtime/kernels/dsp_fully_connected.h"
#include "node_firmware/runtime/kernels/requantise.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate_16x8(const ValidateContext& v) {
  Status status;
  const BasicOpParams* p = basic_16x8_op(v, status);
  if (p == nullptr) return status;
  const TemTensor& tf = *v.input(1);
  const TemTensor* tb = v.input(2);
  if (tf.rank != 2) return Status::kBadShape;
  const int32_t units = static_cast<int32_t>(tf.dims[0]);
  const int32_t depth = static_cast<int32_t>(tf.dims[1]);
  if (depth > kMaxDotLength) return Status::kTooLarge;
  if (tb != nullptr && (tb->rank != 1 || static_cast<int32_t>(tb->dims[0]) != units)) return Status::kBadShape;
  const int32_t in_elements = shape_of(*v.input(0)).elements();
  const Shape4 out = shape_of(*v.output(0));
  if (in_elements % depth != 0) return Status::kBadShape;
  if (static_cast<int64_t>(in_elements / depth) * units != out.elements() || out.c != units) return Status::kBadShape;
  return quant_16x8(v, static_cast<uint32_t>(units));
}

Status validate(const ValidateContext& v) {
  if (is_16x8(v)) return validate_16x8(v);
  Status status;
  const BasicOpParams* p = basic_int8_op(v, 3, status);
  if (p == nullptr) return status;
  if (!v.input_is_constant(1, TemType::kInt8) || !v.input_is_constant(2, TemType::kInt32)) return Status::kBadIndex;
  const TemTensor& tf = *v.input(1);
  const TemTensor& tb = *v.input(2);
  if (tf.rank != 2 || tb.rank != 1) return Status::kBadShape;
  const int32_t units = static_cast<int32_t>(tf.dims[0]);
  const int32_t depth = static_cast<int32_t>(tf.dims[1]);
  if (static_cast<int32_t>(tb.dims[0]) != units || depth > kMaxDotLength) return Status::kBadShape;
  const int32_t in_elements = shape_of(*v.input(0)).elements();
  const Shape4 out = shape_of(*v.output(0));
  if (in_elements % depth != 0) return Status::kBadShape;
  if (static_cast<int64_t>(in_elements / depth) * units != out.elements() || out.c != units) return Status::kBadShape;
  if (Status s = v.quant_table(1, static_cast<uint32_t>(units), false); s != Status::kOk) return s;
  if (Status s = basic_packed(v, *p, static_cast<uint32_t>(units) * 4); s != Status::kOk) return s;
  return blocked_filter_matches(v, *p, units, depth, depth >= 4 ? dsp::kFcBlock : 0);
}

void reference_fully_connected(const OpContext& ctx) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const int32_t units = ctx.filter_shape.n;
  const int32_t depth = ctx.filter_shape.c;
  const int32_t batches = ctx.output_shape.elements() / units;
  const bool per_channel = ctx.quant_count > 1;
  const bool blocked = dsp::blocked_filter(ctx);  // the M4's layout: each weight through it
  for (int32_t b = 0; b < batches; ++b) {
    for (int32_t u = 0; u < units; ++u) {
      int32_t acc = 0;
      for (int32_t d = 0; d < depth; ++d) {
        const int32_t at = blocked ? dsp::blocked_offset(units, depth, dsp::kFcBlock, u, d) : u * depth + d;
        acc += (ctx.input[b * depth + d] + op.input_offset) * ctx.filter[at];
      }
      acc = fx::wrap_add(acc, ctx.bias[u]);
      const int q = per_channel ? u : 0;
      acc = fx::multiply_by_quantized_multiplier(acc, ctx.multipliers[q], ctx.shifts[q]);
      acc = fx::wrap_add(acc, op.output_offset);
      ctx.output[b * units + u] = fx::clamp_int8(acc, op.act_min, op.act_max);
    }
  }
}

// 16x8: TFLite's FullyConnected / FullyConnectedPerChannel for int16 input (zero point 0).
template <class Acc>
void fully_connected_16x8(const OpContext& ctx) {
  const int32_t units = ctx.filter_shape.n;
  const int32_t depth = ctx.filter_shape.c;
  const int32_t batches = ctx.output_shape.elements() / units;
  const auto* input = reinterpret_cast<const int16_t*>(ctx.input);
  auto* output = reinterpret_cast<int16_t*>(ctx.output);
  for (int32_t b = 0; b < batches; ++b) {
    for (int32_t u = 0; u < units; ++u) {
      Acc acc = 0;
      for (int32_t d = 0; d < depth; ++d) acc = accumulate(acc, input[b * depth + d] * ctx.filter[u * depth + d]);
      output[b * units + u] = output_16x8(acc, ctx, u);
    }
  }
}

void fully_connected_16x8(const OpContext& ctx) {
  bias_is_64(ctx) ? fully_connected_16x8<int64_t>(ctx) : fully_connected_16x8<int32_t>(ctx);
}

using optimized::dot;
using optimized::dot4;
using optimized::requantise;
using optimized::requantise_run;

void optimized_fully_connected(const OpContext& ctx) {
#if defined(__ARM_FEATURE_DSP)
  return dsp::fully_connected(ctx, dsp::packed_scales(ctx));
#endif
  // A filter blocked for the M4 runs the M4 kernel on the host too: the loops below read [units][depth].
  if (dsp::blocked_filter(ctx)) return dsp::fully_connected(ctx, dsp::packed_scales(ctx));
  const int32_t units = ctx.filter_shape.n;
  const int32_t depth = ctx.filter_shape.c;
  const int32_t batches = ctx.output_shape.elements() / units;
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t* x = ctx.input + b * depth;
    int32_t u = 0;
    for (; u + 4 <= units; u += 4) {  // four units share each load of x
      int32_t acc[4];
      dot4(x, ctx.filter + u * depth, depth, acc);
      for (int j = 0; j < 4; ++j) acc[j] = fx::wrap_add(ctx.packed[u + j], acc[j]);
      requantise_run(acc, 4, ctx, u, ctx.output + b * units + u);
    }
    for (; u < units; ++u) {
      const int32_t acc = fx::wrap_add(ctx.packed[u], dot(x, ctx.filter + u * depth, depth));
      ctx.output[b * units + u] = requantise(acc, ctx, u);
    }
  }
}

void eval(const OpContext& ctx) {
  if (is_16x8(ctx)) return fully_connected_16x8(ctx);
  ctx.packed != nullptr ? optimized_fully_connected(ctx) : reference_fully_connected(ctx);
}

void eval_reference(const OpContext& ctx) { is_16x8(ctx) ? fully_connected_16x8(ctx) : reference_fully_connected(ctx); }

}  // namespace

extern const KernelRegistration fully_connected_kernel{
    Kernel::kFullyConnected,
    InPlace::kNever,
    validate,
    eval,
    eval_reference,
    TINYEDGE_KERNEL_TEXT("FULLY_CONNECTED"),
    TINYEDGE_KERNEL_TEXT(
        "int8 input [..., depth] (any batches), int8 filter [units, depth] per-tensor or "
        "per-channel, int32 bias [units], int8 output [..., units]; depth <= 32768; default "
        "weights format; or 16x8: int16 input/output with zero points 0, int64 (or int32) bias, optional; "
        "fused RELU/RELU6/RELU_N1_TO_1")};

}  // namespace tinyedge::runtime::kernels
