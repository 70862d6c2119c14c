// SOFTMAX over the last dimension, TFLite Micro's reference semantics for its three quantised forms:
// - int8 in, int8 out (scale 1/256, zero point -128) and int8 in, int16 out (scale 1/65536, zero
//   point -32768): gemmlowp's fixed-point exp and reciprocal, the result shifted down to the
//   output's width and offset by its minimum;
// - int16 in, int16 out (zero points 0, output scale 1/32768): exp and 1/(1+x) read from two
//   513-entry tables with linear interpolation. TFLite Micro builds the tables in float at Prepare;
//   the compiler builds them the same way and packs them (exp table, then 1/(1+x) table).
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/basic_validate.h"

namespace tinyedge::runtime::kernels {
namespace {

// int8 input: the sum of exps is kept in Q12 (TFLite's accumulator); each term is below 1, so
// 4096 classes keep it below 2^31 (TFLite would wrap beyond; we refuse instead).
constexpr int32_t kMaxSoftmaxDepth = 4096;
// int16: exp values are at most 32767, so the int32 sum stays exact up to 65535 classes.
constexpr int32_t kMaxInt16SoftmaxDepth = 65535;
constexpr uint32_t kLutEntries = 513;
constexpr uint32_t kLutBytes = 2 * kLutEntries * sizeof(int16_t);
// Both exp table entries the row maximum reads (exp(0)) must be at least this: the row's sum then
// keeps the reciprocal's shifts in range whatever a corrupt table holds elsewhere.
constexpr int16_t kMinExpAtZero = 16384;

bool is(const TemTensor& t, TemType type) { return t.type == static_cast<uint8_t>(type); }

const int16_t* luts(const uint8_t* blob, const TemOp& op) {
  return reinterpret_cast<const int16_t*>(blob + op.packed_offset);
}

Status validate_int8(const ValidateContext& v, const BasicOpParams& p) {
  const TemTensor& out = *v.output(0);
  const bool int16_out = is(out, TemType::kInt16);
  if (!int16_out && !is(out, TemType::kInt8)) return Status::kBadIndex;
  const Shape4 in = shape_of(*v.input(0));
  const Shape4 o = shape_of(out);
  if (in.elements() != o.elements() || in.c != o.c || in.c > kMaxSoftmaxDepth) return Status::kBadShape;
  if (p.input_offset < -127 || p.input_offset > 128) return Status::kBadParams;
  if (out.zero_point != (int16_out ? -32768 : -128)) return Status::kBadQuantization;
  if (p.extra[0] < 0 || p.extra[1] < 0 || p.extra[1] > 30 || p.extra[2] > 0) return Status::kBadQuantization;
  return v.op->packed_bytes == 0 && v.op->quant_count == 0 ? Status::kOk : Status::kBadParams;
}

Status validate_int16(const ValidateContext& v, const BasicOpParams& p) {
  const TemTensor& out = *v.output(0);
  if (!is(out, TemType::kInt16)) return Status::kBadIndex;
  const Shape4 in = shape_of(*v.input(0));
  const Shape4 o = shape_of(out);
  if (in.elements() != o.elements() || in.c != o.c || in.c > kMaxInt16SoftmaxDepth) return Status::kBadShape;
  if (v.input(0)->zero_point != 0 || out.zero_point != 0) return Status::kBadQuantization;
  if (p.extra[0] < 0 || p.extra[1] < -31 || p.extra[1] > 30 || p.extra[2] != 0) return Status::kBadQuantization;
  if (v.op->quant_count != 0 || v.op->packed_bytes != kLutBytes) return Status::kBadParams;
  const int16_t* exp_lut = luts(v.blob.data(), *v.op);
  for (uint32_t i = 0; i < kLutEntries; ++i) {
    if (exp_lut[i] < 0) return Status::kBadParams;
  }
  return exp_lut[511] >= kMinExpAtZero && exp_lut[512] >= kMinExpAtZero ? Status::kOk : Status::kBadParams;
}

Status validate(const ValidateContext& v) {
  if (v.op->input_count != 1 || v.op->output_count != 1) return Status::kBadOp;
  const BasicOpParams* p = v.params<BasicOpParams>();
  if (p == nullptr) return Status::kBadParams;
  if (v.input(0)->rank > 4 || v.output(0)->rank > 4 || v.input(0)->rank < 1) return Status::kBadShape;
  if (v.input_is_activation(0, TemType::kInt8)) return validate_int8(v, *p);
  if (v.input_is_activation(0, TemType::kInt16)) return validate_int16(v, *p);
  return Status::kBadIndex;
}

// int8 input; Out is int8 or int16 (the output's width sets the final shift and offset).
template <class Out>
void softmax_int8(const OpContext& ctx, int out_bits, int32_t out_min, int32_t out_max) {
  constexpr int kScaledDiffIntegerBits = 5;
  constexpr int kAccumulationIntegerBits = 12;
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const int32_t beta_multiplier = op.extra[0];
  const int32_t beta_left_shift = op.extra[1];
  const int32_t diff_min = op.extra[2];
  const int32_t depth = ctx.input_shape.c;
  const int32_t rows = ctx.input_shape.elements() / depth;
  Out* output = reinterpret_cast<Out*>(ctx.output);
  for (int32_t r = 0; r < rows; ++r) {
    const int8_t* in = ctx.input + r * depth;
    Out* out = output + r * depth;
    int32_t max_in_row = -128;
    for (int32_t c = 0; c < depth; ++c) max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
    int32_t sum_of_exps = 0;  // Q12
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t diff = in[c] - max_in_row;
      if (diff >= diff_min) {
        const int32_t rescaled =
            fx::multiply_by_quantized_multiplier_greater_than_one(diff, beta_multiplier, beta_left_shift);
        const int32_t e = fx::exp_on_negative_values(rescaled, kScaledDiffIntegerBits);
        sum_of_exps = fx::wrap_add(sum_of_exps, fx::fp_rescale(e, 0, kAccumulationIntegerBits));
      }
    }
    int num_bits_over_unit = 0;
    const int32_t shifted_scale = fx::get_reciprocal(sum_of_exps, kAccumulationIntegerBits, &num_bits_over_unit);
    const int exponent = num_bits_over_unit + 31 - out_bits;
    // In-place safe (int8 out): out[c] is written only after in[c] was read for the last time.
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t diff = in[c] - max_in_row;
      if (diff >= diff_min) {
        const int32_t rescaled =
            fx::multiply_by_quantized_multiplier_greater_than_one(diff, beta_multiplier, beta_left_shift);
        const int32_t e = fx::exp_on_negative_values(rescaled, kScaledDiffIntegerBits);
        const int32_t unsat = fx::rounding_divide_by_pot(fx::fp_mul(shifted_scale, e), exponent);
        out[c] = static_cast<Out>(fx::clamp(unsat + out_min, out_min, out_max));
      } else {
        out[c] = static_cast<Out>(out_min);
      }
    }
  }
}

// TFLite's int16 table lookup: the top 9 bits of (value + 32768) pick the entry, the low 7 bits
// interpolate towards the next one (rounded).
int16_t lookup(const int16_t* lut, int32_t value) {
  const int32_t index = 256 + (value >> 7);
  const int32_t offset = value & 0x7F;
  const int32_t base = lut[index];
  const int32_t slope = lut[index + 1] - base;
  return static_cast<int16_t>(base + ((slope * offset + 64) >> 7));
}

void softmax_int16(const OpContext& ctx) {
  const BasicOpParams& op = ctx.params_as<BasicOpParams>();
  const int16_t* exp_lut = reinterpret_cast<const int16_t*>(ctx.packed);
  const int16_t* reciprocal_lut = exp_lut + kLutEntries;
  const int32_t depth = ctx.input_shape.c;
  const int32_t rows = ctx.input_shape.elements() / depth;
  const auto* input = reinterpret_cast<const int16_t*>(ctx.input);
  auto* output = reinterpret_cast<int16_t*>(ctx.output);
  for (int32_t r = 0; r < rows; ++r) {
    const int16_t* in = input + r * depth;
    int16_t* out = output + r * depth;
    int32_t max_in_row = -32768;
    for (int32_t c = 0; c < depth; ++c) max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
    // exp(x - max) in Q0.15, kept in the output row (in-place safe: in[c] is read before out[c]
    // is written, and only out[] is read afterwards).
    int32_t sum_of_exps = 0;
    for (int32_t c = 0; c < depth; ++c) {
      // [-65535, 0] maps onto [-10, 0], the exp table's domain, re-centred on the int16 range.
      const int32_t scaled = fx::multiply_by_quantized_multiplier(in[c] - max_in_row, op.extra[0], op.extra[1]);
      const int16_t e = lookup(exp_lut, fx::clamp(scaled + 32767, -32768, 32767));
      out[c] = e;
      sum_of_exps += e;
    }
    // 1 / sum through the 1/(1+x) table: sum normalised to [1, 2) in Q1.15 (rounded), x = sum - 1
    // re-centred on the int16 range.
    const int headroom_plus_one = fx::count_leading_zeros(static_cast<uint32_t>(sum_of_exps));
    const auto shifted_sum =
        static_cast<int32_t>(((static_cast<int64_t>(sum_of_exps) << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
    const int32_t reciprocal = lookup(reciprocal_lut, fx::clamp(shifted_sum - ((1 << 15) + (1 << 16)), -32768, 32767));
    const int right_shift = 31 - headroom_plus_one;
    const int64_t round = int64_t{1} << (right_shift - 1);
    for (int32_t c = 0; c < depth; ++c) {
      const auto scaled = static_cast<int32_t>((static_cast<int64_t>(out[c]) * reciprocal + round) >> right_shift);
      out[c] = static_cast<int16_t>(fx::clamp(scaled, 0, 32767));
    }
  }
}

void softmax(const OpContext& ctx) {
  const TemTensor& in = ctx.tensors[ctx.inputs[0]];
  const TemTensor& out = ctx.tensors[ctx.outputs[0]];
  if (is(in, TemType::kInt16)) {
    softmax_int16(ctx);
  } else if (is(out, TemType::kInt16)) {
    softmax_int8<int16_t>(ctx, 16, -32768, 32767);
  } else {
    softmax_int8<int8_t>(ctx, 8, -128, 127);
  }
}

}  // namespace

extern const KernelRegistration softmax_kernel{
    Kernel::kSoftmax,
    InPlace::kSameOffset,
    validate,
    softmax,
    softmax,
    TINYEDGE_KERNEL_TEXT("SOFTMAX"),
    TINYEDGE_KERNEL_TEXT("over the last dimension (rank 1..4), any beta: int8 input with int8 output (scale 1/256, "
                         "zero point -128) or int16 output (scale 1/65536, zero point -32768), at most 4096 classes; "
                         "int16 input and output (zero points 0, output scale 1/32768) through TFLite's exp and "
                         "1/(1+x) tables")};

}  // namespace tinyedge::runtime::kernels
