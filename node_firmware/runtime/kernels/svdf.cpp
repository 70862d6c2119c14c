// SVDF, int8 input/weights_feature/output with int16 (or int8) weights_time and state (TFLite Micro's
// integer SVDF): each invoke shifts the state one step left over its whole buffer, writes the new
// feature projections (requantised to the state scale) into each filter's newest slot, then sums
// every filter's memory against its time weights, reduces `rank` filters per unit, adds the bias
// and requantises to the output. The state is a persistent tensor: it carries over invokes.
#include <limits>

#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/registration.h"

namespace tinyedge::runtime::kernels {
namespace {

struct SvdfParams {
  int32_t rank;
  int32_t input_zero_point;
  int32_t state_zero_point;
  int32_t output_zero_point;
  int32_t feature_multiplier, feature_shift;  // input * weights_feature -> state scale
  int32_t output_multiplier, output_shift;    // state * weights_time -> output scale
};

// Operands: input [batch, n_input] int8, weights_feature [n_filter, n_input] int8,
// weights_time [n_filter, n_memory] int16 or int8, bias [n_unit] int32 (optional),
// state [batch, n_filter * n_memory] of the time weights' type (persistent); output [batch, n_unit] int8.
Status validate(const ValidateContext& v) {
  const SvdfParams* p = v.params<SvdfParams>();
  if (p == nullptr) return Status::kBadParams;
  if (v.op->input_count != 5 || v.op->output_count != 1) return Status::kBadOp;
  if (!v.input_is_activation(0, TemType::kInt8) || !v.input_is_constant(1, TemType::kInt8) ||
      !((v.input_is_constant(2, TemType::kInt16) && v.input_is_activation(4, TemType::kInt16)) ||
        (v.input_is_constant(2, TemType::kInt8) && v.input_is_activation(4, TemType::kInt8)))) {
    return Status::kBadIndex;
  }
  const TemTensor* bias = v.input(3);
  if (bias != nullptr && !v.input_is_constant(3, TemType::kInt32)) return Status::kBadIndex;
  const TemTensor* state = v.input(4);
  if (!(state->flags & kTensorPersistent)) return Status::kBadIndex;  // must survive the invoke
  const TemTensor* out = v.output(0);
  if (out->type != static_cast<uint8_t>(TemType::kInt8) || (out->flags & (kTensorConstant | kTensorPersistent))) {
    return Status::kBadIndex;
  }
  const TemTensor* in = v.input(0);
  const TemTensor* wf = v.input(1);
  const TemTensor* wt = v.input(2);
  if (in->rank != 2 || wf->rank != 2 || wt->rank != 2 || out->rank != 2 || state->rank != 2) return Status::kBadShape;
  const uint32_t batch = in->dims[0], n_input = in->dims[1], n_filter = wf->dims[0], n_memory = wt->dims[1];
  if (p->rank < 1 || n_filter % static_cast<uint32_t>(p->rank) != 0) return Status::kBadParams;
  const uint32_t n_unit = n_filter / static_cast<uint32_t>(p->rank);
  if (wf->dims[1] != n_input || wt->dims[0] != n_filter || out->dims[0] != batch || out->dims[1] != n_unit ||
      state->dims[0] != batch || state->dims[1] != n_filter * n_memory) {
    return Status::kBadShape;
  }
  if (bias != nullptr && (bias->rank != 1 || bias->dims[0] != n_unit)) return Status::kBadShape;
  if (p->input_zero_point < -128 || p->input_zero_point > 127 || p->output_zero_point < -128 ||
      p->output_zero_point > 127 || p->state_zero_point < -32768 || p->state_zero_point > 32767 ||
      (state->type == static_cast<uint8_t>(TemType::kInt8) &&
       (p->state_zero_point < -128 || p->state_zero_point > 127))) {
    return Status::kBadQuantization;
  }
  if (p->feature_multiplier < 0 || p->output_multiplier < 0 || p->feature_shift < -31 || p->feature_shift > 30 ||
      p->output_shift < -31 || p->output_shift > 30) {
    return Status::kBadQuantization;
  }
  if (v.op->quant_count != 0 || v.op->packed_bytes != 0) return Status::kBadParams;
  return Status::kOk;
}

// T: the type of the time weights and the state (int16, or int8 for fully int8 models).
template <class T>
void svdf_typed(const OpContext& ctx) {
  const SvdfParams& p = ctx.params_as<SvdfParams>();
  const TemTensor& in_t = ctx.tensors[ctx.inputs[0]];
  const TemTensor& wf_t = ctx.tensors[ctx.inputs[1]];
  const TemTensor& wt_t = ctx.tensors[ctx.inputs[2]];
  const int32_t batch = static_cast<int32_t>(in_t.dims[0]);
  const int32_t n_input = static_cast<int32_t>(in_t.dims[1]);
  const int32_t n_filter = static_cast<int32_t>(wf_t.dims[0]);
  const int32_t n_memory = static_cast<int32_t>(wt_t.dims[1]);
  const int32_t n_unit = n_filter / p.rank;
  const auto* input = reinterpret_cast<const int8_t*>(ctx.data(ctx.inputs[0]));
  const auto* wf = reinterpret_cast<const int8_t*>(ctx.data(ctx.inputs[1]));
  const auto* wt = reinterpret_cast<const T*>(ctx.data(ctx.inputs[2]));
  const int32_t* bias =
      ctx.inputs[3] == kNoTensor ? nullptr : reinterpret_cast<const int32_t*>(ctx.data(ctx.inputs[3]));
  auto* state = reinterpret_cast<T*>(ctx.mutable_data(ctx.inputs[4]));
  auto* output = reinterpret_cast<int8_t*>(ctx.mutable_data(ctx.outputs[0]));

  // One step older: the whole buffer moves left by one element (each filter's oldest value falls
  // out; the slot at each filter's end is overwritten just below).
  const int32_t state_len = batch * n_filter * n_memory;
  for (int32_t i = 0; i + 1 < state_len; ++i) state[i] = state[i + 1];

  for (int32_t b = 0; b < batch; ++b) {
    const int8_t* x = input + b * n_input;
    T* s = state + b * n_filter * n_memory;
    for (int32_t f = 0; f < n_filter; ++f) {
      const int8_t* w = wf + f * n_input;
      int32_t acc = 0;
      for (int32_t k = 0; k < n_input; ++k) acc += w[k] * (x[k] - p.input_zero_point);
      int32_t q = fx::multiply_by_quantized_multiplier(acc, p.feature_multiplier, p.feature_shift);
      q = q < std::numeric_limits<T>::min() ? std::numeric_limits<T>::min() : q;
      q = q > std::numeric_limits<T>::max() ? std::numeric_limits<T>::max() : q;
      s[f * n_memory + n_memory - 1] = static_cast<T>(p.state_zero_point + q);
    }
    for (int32_t u = 0; u < n_unit; ++u) {
      int32_t acc = bias != nullptr ? bias[u] : 0;
      for (int32_t r = 0; r < p.rank; ++r) {
        const int32_t f = u * p.rank + r;
        const T* w = wt + f * n_memory;
        const T* m = s + f * n_memory;
        int32_t dot = 0;
        for (int32_t j = 0; j < n_memory; ++j) dot += w[j] * (m[j] - p.state_zero_point);
        acc += dot;
      }
      int32_t y = fx::multiply_by_quantized_multiplier(acc, p.output_multiplier, p.output_shift) + p.output_zero_point;
      y = y < -128 ? -128 : (y > 127 ? 127 : y);
      output[b * n_unit + u] = static_cast<int8_t>(y);
    }
  }
}

void svdf(const OpContext& ctx) {
  if (ctx.tensors[ctx.inputs[4]].type == static_cast<uint8_t>(TemType::kInt16)) {
    svdf_typed<int16_t>(ctx);
  } else {
    svdf_typed<int8_t>(ctx);
  }
}

}  // namespace

extern const KernelRegistration svdf_kernel{
    Kernel::kSvdf,
    InPlace::kNever,
    validate,
    svdf,
    svdf,
    TINYEDGE_KERNEL_TEXT("SVDF"),
    TINYEDGE_KERNEL_TEXT(
        "int8 input [batch, inputs] and output [batch, units], int8 weights_feature, int16 "
        "or int8 weights_time, optional int32 bias, persistent state of the same type (TFLite is_variable); rank "
        "divides the filters; fused activation as TFLite Micro (none applied beyond the int8 "
        "clamp)")};

}  // namespace tinyedge::runtime::kernels
