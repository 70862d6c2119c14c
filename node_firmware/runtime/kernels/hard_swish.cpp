// HARD_SWISH, int8: x * relu6(x + 3) / 6 in TFLite's 16-bit fixed point (reference_ops::HardSwish).
// The centred input, shifted up 7 bits, is scaled once onto the output scale and once onto a
// "reluish" scale where 3.0 is 2^15 (saturating, to [-1, 1]); the latter moved to [0, 1] multiplies
// the former (truncating high multiply), then a rounding shift reaches the output scale.
#include "node_firmware/runtime/kernels/unary.h"

namespace tinyedge::runtime::kernels {
namespace {

// Written by the compiler: TFLite's Prepare for int8 (QuantizeMultiplier, then the multiplier
// rounded to 16 bits).
struct HardSwishParams {
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t output_multiplier;   // Q0.15, 0..32767: (input_scale / 128) / output_scale ...
  int32_t output_exponent;     // ... times 2^exponent, -31..0
  int32_t reluish_multiplier;  // Q0.15, 0..32767: (input_scale / 128) / (3 / 32768) ...
  int32_t reluish_exponent;    // ... times 2^exponent, -31..30
};
static_assert(sizeof(HardSwishParams) == 24);

Status validate(const ValidateContext& v) {
  if (Status s = unary_same_type(v); s != Status::kOk) return s;
  if (!v.input_is_activation(0, TemType::kInt8)) return Status::kBadIndex;
  const HardSwishParams* p = v.params<HardSwishParams>();
  if (p == nullptr || p->input_zero_point < -128 || p->input_zero_point > 127 || p->output_zero_point < -128 ||
      p->output_zero_point > 127 || p->output_multiplier < 0 || p->output_multiplier > 32767 ||
      p->output_exponent < -31 || p->output_exponent > 0 || p->reluish_multiplier < 0 ||
      p->reluish_multiplier > 32767 || p->reluish_exponent < -31 || p->reluish_exponent > 30) {
    return Status::kBadParams;
  }
  if (v.input(0)->zero_point != p->input_zero_point || v.output(0)->zero_point != p->output_zero_point) {
    return Status::kBadQuantization;
  }
  return v.op->packed_bytes == 0 && v.op->quant_count == 0 ? Status::kOk : Status::kBadParams;
}

int16_t saturate16(int64_t v) { return static_cast<int16_t>(v < -32768 ? -32768 : (v > 32767 ? 32767 : v)); }

// a * b / 2^15 in 16 bits, rounded to nearest (gemmlowp's 16-bit SaturatingRoundingDoublingHighMul).
int16_t rounding_high_mul(int16_t a, int16_t b) {
  if (a == -32768 && b == -32768) return 32767;
  const int32_t product = int32_t{a} * b;
  const int32_t nudge = product >= 0 ? (1 << 14) : 1 - (1 << 14);
  return static_cast<int16_t>((product + nudge) / (1 << 15));
}

// a * b / 2^15 in 16 bits, truncated towards zero (TFLite's SaturatingDoublingHighMul).
int16_t truncating_high_mul(int16_t a, int16_t b) {
  if (a == -32768 && b == -32768) return 32767;
  return static_cast<int16_t>((int32_t{a} * b) / (1 << 15));
}

// gemmlowp's RoundingDivideByPOT on int16 (half away from zero), its mask taken in 16 bits.
int16_t rounding_shift_right(int16_t x, int exponent) {
  const auto mask = static_cast<int16_t>((int64_t{1} << exponent) - 1);
  const auto remainder = static_cast<int16_t>(x & mask);
  const auto threshold = static_cast<int16_t>((mask >> 1) + (x < 0 ? 1 : 0));
  return static_cast<int16_t>((x >> exponent) + (remainder > threshold ? 1 : 0));
}

void hard_swish(const OpContext& ctx) {
  const HardSwishParams& p = ctx.params_as<HardSwishParams>();
  const auto output_multiplier = static_cast<int16_t>(p.output_multiplier);
  const auto reluish_multiplier = static_cast<int16_t>(p.reluish_multiplier);
  map_elements<int8_t>(ctx, [&](int32_t x) -> int32_t {
    const auto hires = static_cast<int16_t>((x - p.input_zero_point) * 128);
    const int16_t on_output_scale = rounding_high_mul(hires, output_multiplier);
    // Onto [-1, 1] where 3.0 is 2^15: a left shift saturates in two steps so that only the last
    // bit's saturation shows, a right shift rounds.
    int16_t reluish = hires;
    if (p.reluish_exponent > 0) reluish = saturate16(int64_t{reluish} * (int64_t{1} << (p.reluish_exponent - 1)));
    reluish = rounding_high_mul(reluish, reluish_multiplier);
    if (p.reluish_exponent > 0) reluish = saturate16(int64_t{reluish} * 2);
    if (p.reluish_exponent < 0) reluish = rounding_shift_right(reluish, -p.reluish_exponent);
    // [-1, 1] onto [0, 1].
    reluish = static_cast<int16_t>((reluish + (1 << 15)) >> 1);
    const int16_t product = truncating_high_mul(reluish, on_output_scale);
    const auto shifted = static_cast<int16_t>(rounding_shift_right(product, -p.output_exponent) + p.output_zero_point);
    return shifted < -128 ? -128 : (shifted > 127 ? 127 : shifted);
  });
}

}  // namespace

extern const KernelRegistration hard_swish_kernel{
    Kernel::kHardSwish,
    InPlace::kSameOffset,
    validate,
    hard_swish,
    hard_swish,
    TINYEDGE_KERNEL_TEXT("HARD_SWISH"),
    TINYEDGE_KERNEL_TEXT("int8 input and output of the same element count, any rank; own output quantisation "
                         "(output scale at least input scale / 128)")};

}  // namespace tinyedge::runtime::kernels
