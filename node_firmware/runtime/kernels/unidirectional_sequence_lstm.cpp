// UNIDIRECTIONAL_SEQUENCE_LSTM as TFLite Micro quantises it: int8 input, hidden state and output,
// int8 weights, int16 cell state, gates computed in int16 (pre-activations in Q3.12, activations in
// Q0.15 through TFLite's int16 lookup-table sigmoid/tanh). Per step and gate: the input and the
// recurrent projections are requantised to Q3.12 separately and added with int16 saturation. The
// compiler folds every zero point into the biases (bias - zp * row sum of the weights), so a gate
// is bias + raw dot products; it computes all multipliers offline too, so the node does no float.
//
// Every element of a step depends only on its own cell and on the previous hidden state, so each
// new hidden value is written straight into the output row and copied into the state after the
// row is done: no scratch buffers (TFLite Micro keeps four gate vectors in its arena).
#include <cstring>

#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/basic_validate.h"
#include "node_firmware/runtime/kernels/dot.h"
#include "node_firmware/runtime/kernels/lut16.h"
#include "node_firmware/runtime/kernels/registration.h"

namespace tinyedge::runtime::kernels {
namespace {

// Gates in TFLite's operand order.
enum Gate : int32_t { kInputGate = 0, kForgetGate = 1, kCellGate = 2, kOutputGate = 3, kGates = 4 };

struct LstmParams {
  int32_t time_major;         // 1: input [time, batch, in]; 0: [batch, time, in]
  int32_t hidden_zero_point;  // the int8 hidden state's (and so the output's) zero point
  int32_t cell_clip;          // clamp of the cell state to [-clip, clip]; -1: none
  // Cell state -> tanh's table input (Q3.12 * 3): (c * multiplier + half) >> shift.
  int32_t cell_tanh_multiplier, cell_tanh_shift;
  // Input side (gates 0..3), then recurrent side (gates 0..3): accumulator -> Q3.12.
  int32_t gate_multiplier[2 * kGates];
  int32_t gate_shift[2 * kGates];
  int32_t forget_multiplier, forget_shift;  // forget gate (Q0.15) x cell -> cell scale
  int32_t input_multiplier, input_shift;    // input gate x cell gate (Q0.15 each) -> cell scale
  int32_t hidden_multiplier, hidden_shift;  // output gate x tanh(cell) (Q0.15 each) -> hidden
};
static_assert(sizeof(LstmParams) == 4 * 27);

// Operands: 0 input int8 (rank 3); 1..4 input weights [cells, in] and 5..8 recurrent weights
// [cells, cells], int8, gates input/forget/cell/output; 9 hidden state int8 and 10 cell state
// int16, persistent, batch * cells elements. Output: int8 [d0, d1, cells] (d0, d1 the input's).
// Packed: folded int32 biases [2][4][cells], input side then recurrent side.
constexpr uint8_t kWeights = 1, kRecurrent = 5, kHidden = 9, kCell = 10, kOperands = 11;

uint64_t elements(const TemTensor& t) {
  uint64_t n = 1;
  for (uint8_t d = 0; d < t.rank; ++d) n *= t.dims[d];
  return n;
}

bool multiplier_ok(int32_t multiplier, int32_t shift) { return multiplier >= 0 && shift >= -31 && shift <= 30; }

Status validate(const ValidateContext& v) {
  const LstmParams* p = v.params<LstmParams>();
  if (p == nullptr) return Status::kBadParams;
  if (v.op->input_count != kOperands || v.op->output_count != 1) return Status::kBadOp;
  if (!v.input_is_activation(0, TemType::kInt8) || !v.input_is_activation(kHidden, TemType::kInt8) ||
      !v.input_is_activation(kCell, TemType::kInt16)) {
    return Status::kBadIndex;
  }
  for (uint8_t k = kWeights; k < kHidden; ++k) {
    if (!v.input_is_constant(k, TemType::kInt8)) return Status::kBadIndex;
  }
  const TemTensor& in = *v.input(0);
  const TemTensor& hidden = *v.input(kHidden);
  const TemTensor& cell = *v.input(kCell);
  const TemTensor& out = *v.output(0);
  // The states must survive the invoke; the input must not be one of them.
  if (!(hidden.flags & kTensorPersistent) || !(cell.flags & kTensorPersistent) || (in.flags & kTensorPersistent)) {
    return Status::kBadIndex;
  }
  if (v.inputs[kHidden] == v.inputs[kCell] || out.type != static_cast<uint8_t>(TemType::kInt8) ||
      (out.flags & (kTensorConstant | kTensorPersistent))) {
    return Status::kBadIndex;
  }
  if (in.rank != 3 || out.rank != 3) return Status::kBadShape;
  const uint64_t n_input = in.dims[2];
  const uint64_t batch = p->time_major == 1 ? in.dims[1] : in.dims[0];
  const TemTensor& w0 = *v.input(kWeights);
  if (w0.rank != 2) return Status::kBadShape;
  const uint64_t n_cell = w0.dims[0];
  // Dot products stay inside int32: at most 2^15 terms of at most 2^14 each.
  if (n_input > static_cast<uint64_t>(kMaxDotLength) || n_cell > static_cast<uint64_t>(kMaxDotLength)) {
    return Status::kTooLarge;
  }
  for (uint8_t k = kWeights; k < kHidden; ++k) {
    const TemTensor& w = *v.input(k);
    if (w.rank != 2 || w.dims[0] != n_cell || w.dims[1] != (k < kRecurrent ? n_input : n_cell)) {
      return Status::kBadShape;
    }
  }
  if (out.dims[0] != in.dims[0] || out.dims[1] != in.dims[1] || out.dims[2] != n_cell) return Status::kBadShape;
  if (elements(hidden) != batch * n_cell || elements(cell) != batch * n_cell) return Status::kBadShape;
  if ((p->time_major != 0 && p->time_major != 1) || p->hidden_zero_point < -128 || p->hidden_zero_point > 127 ||
      p->cell_clip < -1 || p->cell_clip > 32767) {
    return Status::kBadParams;
  }
  // The table input (c * multiplier) must stay inside int32 for any int16 c.
  if (p->cell_tanh_multiplier < 1 || p->cell_tanh_multiplier > 49152 || p->cell_tanh_shift < 0 ||
      p->cell_tanh_shift > 30) {
    return Status::kBadParams;
  }
  for (int g = 0; g < 2 * kGates; ++g) {
    if (!multiplier_ok(p->gate_multiplier[g], p->gate_shift[g])) return Status::kBadQuantization;
  }
  if (!multiplier_ok(p->forget_multiplier, p->forget_shift) || !multiplier_ok(p->input_multiplier, p->input_shift) ||
      !multiplier_ok(p->hidden_multiplier, p->hidden_shift)) {
    return Status::kBadQuantization;
  }
  if (v.op->quant_count != 0 || v.op->packed_bytes != 2 * kGates * n_cell * 4) return Status::kBadParams;
  return Status::kOk;
}

int16_t saturate16(int32_t x) { return static_cast<int16_t>(x < -32768 ? -32768 : (x > 32767 ? 32767 : x)); }

// One requantised projection: bias + dot, to Q3.12 with int16 saturation (TFLite's FC into int16).
int16_t project(uint32_t bias, int32_t dot, int32_t multiplier, int32_t shift) {
  const auto acc = static_cast<int32_t>(bias + static_cast<uint32_t>(dot));  // wraps as int32 would
  return saturate16(fx::multiply_by_quantized_multiplier(acc, multiplier, shift));
}

struct Step {
  const LstmParams& p;
  const int8_t* w[2 * kGates];  // input-side then recurrent weights
  const int32_t* bias;          // [2][4][cells]
  int32_t n_input, n_cell;
};

// The four int16 gate activations of cell j, from its dot products (input side, recurrent side).
void gates_of(const Step& s, int32_t j, const int32_t dot_x[kGates], const int32_t dot_h[kGates], int16_t act[kGates]) {
  for (int g = 0; g < kGates; ++g) {
    const int16_t from_input =
        project(static_cast<uint32_t>(s.bias[g * s.n_cell + j]), dot_x[g], s.p.gate_multiplier[g], s.p.gate_shift[g]);
    const int16_t from_hidden = project(static_cast<uint32_t>(s.bias[(kGates + g) * s.n_cell + j]), dot_h[g],
                                        s.p.gate_multiplier[kGates + g], s.p.gate_shift[kGates + g]);
    const int32_t pre = saturate16(from_input + from_hidden) * 3;  // Q3.12 scaled for the table
    act[g] = g == kCellGate ? lut16::tanh_scaled(pre) : lut16::logistic_scaled(pre);
  }
}

// Cell j's new cell state and hidden value from its gate activations.
int8_t update_cell(const LstmParams& p, const int16_t act[kGates], int16_t* c) {
  const int16_t kept =
      saturate16(fx::multiply_by_quantized_multiplier(act[kForgetGate] * *c, p.forget_multiplier, p.forget_shift));
  const int16_t added = saturate16(
      fx::multiply_by_quantized_multiplier(act[kInputGate] * act[kCellGate], p.input_multiplier, p.input_shift));
  int16_t next = saturate16(kept + added);
  if (p.cell_clip >= 0) {
    const auto clip = static_cast<int16_t>(p.cell_clip);
    next = next > clip ? clip : (next < -clip ? static_cast<int16_t>(-clip) : next);
  }
  *c = next;
  const int16_t squashed = lut16::tanh_scaled(lut16::rescale(next, p.cell_tanh_multiplier, p.cell_tanh_shift));
  int32_t h = p.hidden_zero_point +
              fx::multiply_by_quantized_multiplier(squashed * act[kOutputGate], p.hidden_multiplier, p.hidden_shift);
  h = h < -128 ? -128 : (h > 127 ? 127 : h);
  return static_cast<int8_t>(h);
}

// One step of one sequence: the new hidden values of every cell into y, the cell state in c.
void step_reference(const Step& s, const int8_t* x, const int8_t* h, int16_t* c, int8_t* y) {
  for (int32_t j = 0; j < s.n_cell; ++j) {
    int32_t dot_x[kGates], dot_h[kGates];
    for (int g = 0; g < kGates; ++g) {
      const int8_t* wx = s.w[g] + j * s.n_input;
      const int8_t* wh = s.w[kGates + g] + j * s.n_cell;
      dot_x[g] = dot_h[g] = 0;
      for (int32_t k = 0; k < s.n_input; ++k) dot_x[g] += x[k] * wx[k];
      for (int32_t k = 0; k < s.n_cell; ++k) dot_h[g] += h[k] * wh[k];
    }
    int16_t act[kGates];
    gates_of(s, j, dot_x, dot_h, act);
    y[j] = update_cell(s.p, act, c + j);
  }
}

// The same step four cells at a time: each pass over x (and h) feeds four weight rows.
void step_optimized(const Step& s, const int8_t* x, const int8_t* h, int16_t* c, int8_t* y) {
  int32_t j = 0;
  for (; j + 4 <= s.n_cell; j += 4) {
    int32_t dx[kGates][4], dh[kGates][4];
    for (int g = 0; g < kGates; ++g) {
      optimized::dot4(x, s.w[g] + j * s.n_input, s.n_input, dx[g]);
      optimized::dot4(h, s.w[kGates + g] + j * s.n_cell, s.n_cell, dh[g]);
    }
    for (int32_t k = 0; k < 4; ++k) {
      const int32_t dot_x[kGates] = {dx[0][k], dx[1][k], dx[2][k], dx[3][k]};
      const int32_t dot_h[kGates] = {dh[0][k], dh[1][k], dh[2][k], dh[3][k]};
      int16_t act[kGates];
      gates_of(s, j + k, dot_x, dot_h, act);
      y[j + k] = update_cell(s.p, act, c + j + k);
    }
  }
  for (; j < s.n_cell; ++j) {
    int32_t dot_x[kGates], dot_h[kGates];
    for (int g = 0; g < kGates; ++g) {
      dot_x[g] = optimized::dot(x, s.w[g] + j * s.n_input, s.n_input);
      dot_h[g] = optimized::dot(h, s.w[kGates + g] + j * s.n_cell, s.n_cell);
    }
    int16_t act[kGates];
    gates_of(s, j, dot_x, dot_h, act);
    y[j] = update_cell(s.p, act, c + j);
  }
}

// The whole sequence, one step at a time.
template <void (*StepFn)(const Step&, const int8_t*, const int8_t*, int16_t*, int8_t*)>
void lstm(const OpContext& ctx) {
  const LstmParams& p = ctx.params_as<LstmParams>();
  const TemTensor& in_t = ctx.tensors[ctx.inputs[0]];
  Step s{p,
         {},
         ctx.packed,
         static_cast<int32_t>(in_t.dims[2]),
         static_cast<int32_t>(ctx.tensors[ctx.inputs[kWeights]].dims[0])};
  for (int g = 0; g < 2 * kGates; ++g) s.w[g] = reinterpret_cast<const int8_t*>(ctx.data(ctx.inputs[kWeights + g]));
  const int32_t batch = static_cast<int32_t>(p.time_major == 1 ? in_t.dims[1] : in_t.dims[0]);
  const int32_t steps = static_cast<int32_t>(p.time_major == 1 ? in_t.dims[0] : in_t.dims[1]);
  const auto* input = reinterpret_cast<const int8_t*>(ctx.data(ctx.inputs[0]));
  auto* hidden = reinterpret_cast<int8_t*>(ctx.mutable_data(ctx.inputs[kHidden]));
  auto* cell = reinterpret_cast<int16_t*>(ctx.mutable_data(ctx.inputs[kCell]));
  auto* output = reinterpret_cast<int8_t*>(ctx.mutable_data(ctx.outputs[0]));
  // Batches never mix (each has its own state rows), so one loop order serves both layouts.
  for (int32_t b = 0; b < batch; ++b) {
    int8_t* h = hidden + b * s.n_cell;
    int16_t* c = cell + b * s.n_cell;
    for (int32_t t = 0; t < steps; ++t) {
      const int32_t row = p.time_major == 1 ? t * batch + b : b * steps + t;
      int8_t* y = output + row * s.n_cell;
      StepFn(s, input + row * s.n_input, h, c, y);
      std::memcpy(h, y, static_cast<size_t>(s.n_cell));  // the new hidden state, read by the next step
    }
  }
}

void eval_reference(const OpContext& ctx) { lstm<step_reference>(ctx); }
void eval(const OpContext& ctx) { lstm<step_optimized>(ctx); }

}  // namespace

extern const KernelRegistration unidirectional_sequence_lstm_kernel{
    Kernel::kUnidirectionalSequenceLstm,
    InPlace::kNever,
    validate,
    eval,
    eval_reference,
    TINYEDGE_KERNEL_TEXT("UNIDIRECTIONAL_SEQUENCE_LSTM"),
    TINYEDGE_KERNEL_TEXT(
        "int8 input [batch, time, in] or time-major [time, batch, in], int8 per-tensor symmetric weights "
        "(4 input, 4 recurrent), int32 gate biases, int8 hidden state and int16 cell state (persistent, "
        "TFLite is_variable); int8 output [.., .., cells]; TANH cell activation, optional cell clip; "
        "no peephole, projection, layer norm or CIFG (as TFLite Micro)")};

}  // namespace tinyedge::runtime::kernels
