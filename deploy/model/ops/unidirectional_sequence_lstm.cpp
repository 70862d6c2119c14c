// UNIDIRECTIONAL_SEQUENCE_LSTM, the integer LSTM TFLite Micro runs (int8 input/hidden/output, int8
// weights, int16 cell state). Everything TFLite Micro works out at Prepare is done here: the gate
// projections' multipliers (into Q3.12), the three elementwise products' multipliers, the cell
// state's power-of-two scale for tanh, the quantised cell clip, and the zero points folded into
// the biases as row sums of the weights. The variants TFLite Micro refuses (peephole, projection,
// layer norm, CIFG) are refused here by the tensor that asks for them.
#include <cmath>
#include <limits>

#include "deploy/model/lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "deploy/model/quantize.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

// Byte for byte the runtime's params (node_firmware/runtime/kernels/unidirectional_sequence_lstm.cpp).
struct LstmParams {
  int32_t time_major;
  int32_t hidden_zero_point;
  int32_t cell_clip;
  int32_t cell_tanh_multiplier, cell_tanh_shift;
  int32_t gate_multiplier[8];
  int32_t gate_shift[8];
  int32_t forget_multiplier, forget_shift;
  int32_t input_multiplier, input_shift;
  int32_t hidden_multiplier, hidden_shift;
};

// TFLite's operand positions.
enum : size_t {
  kInput = 0,
  kInputWeights = 1,      // 1..4: input/forget/cell/output gate, [cells, in]
  kRecurrentWeights = 5,  // 5..8: [cells, cells]
  kPeephole = 9,          // 9..11: cell_to_input/forget/output
  kBias = 12,             // 12..15
  kProjectionWeights = 16,
  kProjectionBias = 17,
  kHiddenState = 18,
  kCellState = 19,
  kLayerNorm = 20,  // 20..23
};
constexpr const char* kGateNames[4] = {"input", "forget", "cell", "output"};

// TFLite ActivationFunctionType TANH: the only cell activation TFLite Micro's integer LSTM takes.
constexpr int8_t kTanh = 4;

void import(const fb::Operator& op, Op& out, const std::string& where) {
  const auto* o = op.builtin_options_as_UnidirectionalSequenceLSTMOptions();
  if (!o) throw ImportError(where + ": missing options");
  if (o->fused_activation_function() != kTanh) {
    throw ImportError(where + ": cell activation " + std::to_string(o->fused_activation_function()) +
                      " not supported (TFLite Micro's LSTM runs TANH)");
  }
  if (o->diagonal_recurrent_tensors()) {
    throw ImportError(where + ": diagonal recurrent weights not supported (TFLite Micro takes full matrices)");
  }
  out.options.ints["time_major"] = o->time_major() ? 1 : 0;
  out.options.floats["cell_clip"] = o->cell_clip();
}

// Sum of each row of an int8 [rows, cols] matrix.
std::vector<int64_t> row_sums(const Tensor& w) {
  const int32_t rows = w.shape[0], cols = w.shape[1];
  std::vector<int64_t> sums(static_cast<size_t>(rows), 0);
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t k = 0; k < cols; ++k) sums[r] += static_cast<int8_t>(w.data[static_cast<size_t>(r) * cols + k]);
  }
  return sums;
}

void lower(LowerContext& c) {
  if (c.op().inputs.size() != 20 && c.op().inputs.size() != 24) {
    c.fail("expects 24 inputs (or 20 without layer norm), got " + std::to_string(c.op().inputs.size()));
  }
  c.need_outputs(1);
  // Variants TFLite Micro's LSTM does not run: each named by the tensor that asks for it.
  for (size_t k = kPeephole; k < kPeephole + 3; ++k) {
    if (c.in(k) >= 0) c.fail("peephole weights not supported (TFLite Micro's LSTM has none)", c.in(k));
  }
  if (c.in(kProjectionWeights) >= 0) {
    c.fail("projection weights not supported (TFLite Micro's LSTM has none)", c.in(kProjectionWeights));
  }
  if (c.in(kProjectionBias) >= 0) {
    c.fail("projection bias not supported (TFLite Micro's LSTM has none)", c.in(kProjectionBias));
  }
  for (size_t k = kLayerNorm; k < kLayerNorm + 4; ++k) {
    if (c.in(k) >= 0) c.fail("layer norm coefficients not supported (TFLite Micro's LSTM has none)", c.in(k));
  }
  if (c.in(kInputWeights) < 0 || c.in(kRecurrentWeights) < 0) {
    c.fail("coupled input-forget gate (CIFG, no input gate weights) not supported (TFLite Micro needs them)");
  }
  const int input_index = c.in(kInput);
  if (input_index >= 0 && c.tensor(input_index).type == DataType::kInt16) {
    c.fail("int16 input (the 16x8 LSTM) not supported: the runtime's LSTM takes int8 activations", input_index);
  }
  const Tensor& in = c.activation(input_index, DataType::kInt8);
  const Tensor& hidden = c.activation(c.in(kHiddenState), DataType::kInt8);
  const Tensor& cell = c.activation(c.in(kCellState), DataType::kInt16);
  const Tensor& out = c.activation(c.out(), DataType::kInt8);
  if (!hidden.persistent) c.fail("the hidden state must be a variable (persistent) tensor", c.in(kHiddenState));
  if (!cell.persistent) c.fail("the cell state must be a variable (persistent) tensor", c.in(kCellState));
  if (zp_of(cell) != 0) c.fail("the cell state must be symmetric (zero point 0)", c.in(kCellState));
  if (in.shape.size() != 3)
    c.fail("input must be 3-D ([batch, time, in] or time-major [time, batch, in])", input_index);
  const bool time_major = c.op().options.int_or("time_major", 0) == 1;
  const int32_t batch = time_major ? in.shape[1] : in.shape[0];
  const int32_t n_input = in.shape[2];

  const Tensor* w[8];
  for (size_t g = 0; g < 8; ++g) {
    const int index = c.in(kInputWeights + g);
    w[g] = &c.constant(index, DataType::kInt8);
    if (w[g]->shape.size() != 2) c.fail("weights must be 2-D [cells, inputs]", index);
    if (w[g]->quant.scales.size() != 1) {
      c.fail("weights need per-tensor quantisation (TFLite Micro's LSTM has one multiplier per gate)", index);
    }
    if (zp_of(*w[g]) != 0) c.fail("weights must be symmetric (zero point 0)", index);
    if (!(scale_of(*w[g]) > 0)) c.fail("weights scale must be positive", index);
  }
  const int32_t n_cell = w[0]->shape[0];
  for (size_t g = 0; g < 8; ++g) {
    const int32_t cols = g < 4 ? n_input : n_cell;
    if (w[g]->shape[0] != n_cell || w[g]->shape[1] != cols) {
      c.fail(std::string(g < 4 ? "input" : "recurrent") + " weights of the " + kGateNames[g % 4] + " gate must be [" +
                 std::to_string(n_cell) + ", " + std::to_string(cols) + "]",
             c.in(kInputWeights + g));
    }
  }
  if (n_input > 32768 || n_cell > 32768) c.fail("more than 32768 inputs or cells");
  if (hidden.element_count() != static_cast<size_t>(batch) * n_cell) {
    c.fail("hidden state must hold batch * cells values", c.in(kHiddenState));
  }
  if (cell.element_count() != static_cast<size_t>(batch) * n_cell) {
    c.fail("cell state must hold batch * cells values", c.in(kCellState));
  }
  if (out.shape.size() != 3 || out.shape[0] != in.shape[0] || out.shape[1] != in.shape[1] || out.shape[2] != n_cell) {
    c.fail("output must be the input's first two dimensions by " + std::to_string(n_cell) + " cells", c.out());
  }

  LstmParams p{};
  p.time_major = time_major ? 1 : 0;
  p.hidden_zero_point = zp_of(hidden);
  auto multiplier = [&](double real, int32_t* m, int32_t* s, const std::string& what) {
    if (!std::isfinite(real) || real < 0) c.fail("non-finite " + what + " scale");
    int shift = 0;
    quantize_multiplier(real, m, &shift);
    if (shift < -31 || shift > 30) c.fail(what + " requantisation shift out of range");
    *s = shift;
  };
  // Gate projections requantise into Q3.12 (scale 2^-12), each side on its own; the scale
  // product is taken in float, as TFLite's FC multiplier does.
  const double gate_scale = static_cast<double>(0.000244140625f);
  for (int g = 0; g < 4; ++g) {
    multiplier(static_cast<double>(scale_of(in) * scale_of(*w[g])) / gate_scale, &p.gate_multiplier[g],
               &p.gate_shift[g], std::string("input-to-") + kGateNames[g]);
    multiplier(static_cast<double>(scale_of(hidden) * scale_of(*w[4 + g])) / gate_scale, &p.gate_multiplier[4 + g],
               &p.gate_shift[4 + g], std::string("recurrent-to-") + kGateNames[g]);
  }
  // Gate activations are Q0.15 (scale 2^-15).
  const double act_scale = static_cast<double>(0.000030517578125f);
  const double cell_scale = static_cast<double>(scale_of(cell));
  multiplier(act_scale * cell_scale / cell_scale, &p.forget_multiplier, &p.forget_shift, "forget x cell");
  multiplier(act_scale * act_scale / cell_scale, &p.input_multiplier, &p.input_shift, "input x cell gate");
  multiplier(act_scale * act_scale / static_cast<double>(scale_of(hidden)), &p.hidden_multiplier, &p.hidden_shift,
             "output x tanh(cell)");

  // tanh(cell): TFLite takes the cell scale as 2^power (power rounded from log2 in float) and
  // shifts the cell into Q3.12 before the table's x3.
  const float log2_scale = std::log(scale_of(cell)) * (1.0f / std::log(2.0f));
  const int power = static_cast<int>(std::round(log2_scale));
  const int left_shift = 15 + power - 3;
  if (left_shift >= 0) {
    if (left_shift > 14)
      c.fail("cell state scale 2^" + std::to_string(power) + " too large for tanh", c.in(kCellState));
    p.cell_tanh_multiplier = 3 << left_shift;
    p.cell_tanh_shift = 0;
  } else {
    if (-left_shift > 30)
      c.fail("cell state scale 2^" + std::to_string(power) + " too small for tanh", c.in(kCellState));
    p.cell_tanh_multiplier = 3;
    p.cell_tanh_shift = -left_shift;
  }
  const float clip = c.op().options.float_or("cell_clip", 0.0f);
  if (!std::isfinite(clip) || clip < 0) c.fail("cell clip must be a finite value >= 0");
  p.cell_clip = -1;
  if (clip > 0) {
    const double q = std::min(std::max(static_cast<double>(clip) / cell_scale, -32768.0), 32767.0);
    p.cell_clip = static_cast<int16_t>(q);
  }

  // Folded biases: input side bias - zp_in * rowsum(W_x), recurrent side -zp_h * rowsum(W_h)
  // (TFLite's FCs subtract the zero point from every input value).
  std::vector<int32_t> bias(static_cast<size_t>(8) * n_cell);
  for (size_t g = 0; g < 4; ++g) {
    const int index = c.in(kBias + g);
    if (index < 0) c.fail(std::string("the ") + kGateNames[g] + " gate bias is absent (TFLite Micro needs it)");
    const Tensor& b = c.constant(index, DataType::kInt32);
    if (b.element_count() != static_cast<size_t>(n_cell)) c.fail("bias must have one value per cell", index);
    const std::vector<int64_t> sx = row_sums(*w[g]);
    const std::vector<int64_t> sh = row_sums(*w[4 + g]);
    for (int32_t j = 0; j < n_cell; ++j) {
      const int64_t folded_x = static_cast<int64_t>(read_i32(b, static_cast<size_t>(j))) - zp_of(in) * sx[j];
      const int64_t folded_h = -static_cast<int64_t>(zp_of(hidden)) * sh[j];
      for (int64_t v : {folded_x, folded_h}) {
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
          c.fail("bias with the zero point folded in leaves int32", index);
        }
      }
      bias[g * n_cell + j] = static_cast<int32_t>(folded_x);
      bias[(4 + g) * n_cell + j] = static_cast<int32_t>(folded_h);
    }
  }

  Lowered& l = c.emit(rt::Kernel::kUnidirectionalSequenceLstm);
  l.inputs = {input_index};
  for (size_t g = 0; g < 8; ++g) l.inputs.push_back(c.in(kInputWeights + g));
  l.inputs.push_back(c.in(kHiddenState));
  l.inputs.push_back(c.in(kCellState));
  l.outputs = {c.out()};
  l.set_params(p);
  l.append_packed(bias);
}

}  // namespace

std::vector<OpDef> unidirectional_sequence_lstm_ops() {
  return {{44, "UNIDIRECTIONAL_SEQUENCE_LSTM", import, lower, nullptr}};
}

}  // namespace tinyedge::model
