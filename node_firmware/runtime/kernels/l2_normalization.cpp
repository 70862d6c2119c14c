// L2_NORMALIZATION, int8 (TFLite's reference_integer_ops::L2Normalization): each row over the last
// dimension divided by its L2 norm, output scale 1/128 and zero point 0. The inverse square root
// is TFLite's GetInvSqrtQuantizedMultiplierExp: Newton-Raphson in Q3.28 on the sum of squares
// normalised into [2^27, 2^29), times sqrt(2)/2, with the power of two kept as a shift.
#include "node_firmware/runtime/fixed_point.h"
#include "node_firmware/runtime/kernels/unary.h"

namespace tinyedge::runtime::kernels {
namespace {

constexpr int32_t kMaxDepth = 32768;  // keeps the int32 sum of squares (<= 255^2 each) exact

struct L2NormParams {
  int32_t input_zero_point;
};
static_assert(sizeof(L2NormParams) == 4);

Status validate(const ValidateContext& v) {
  if (Status s = unary_same_type(v); s != Status::kOk) return s;
  if (!v.input_is_activation(0, TemType::kInt8)) return Status::kBadIndex;
  const TemTensor& in = *v.input(0);
  const TemTensor& out = *v.output(0);
  if (in.rank < 1 || in.rank > 4 || out.rank != in.rank || in.dims[in.rank - 1] != out.dims[out.rank - 1] ||
      in.dims[in.rank - 1] > static_cast<uint32_t>(kMaxDepth)) {
    return Status::kBadShape;
  }
  if (out.zero_point != 0) return Status::kBadQuantization;
  const L2NormParams* p = v.params<L2NormParams>();
  if (p == nullptr || p->input_zero_point < -128 || p->input_zero_point > 127) return Status::kBadParams;
  return v.op->packed_bytes == 0 && v.op->quant_count == 0 ? Status::kOk : Status::kBadParams;
}

// 1/sqrt(sum) as a multiplier and a (left, TFLite's reverse) shift.
void inv_sqrt(int32_t sum, int32_t* multiplier, int* shift) {
  if (sum <= 1) {
    *multiplier = 0x7FFFFFFF;
    *shift = 0;
    return;
  }
  int right = 11;
  while (sum >= (1 << 29)) {
    sum /= 4;
    ++right;
  }
  const int pairs = (fx::count_leading_zeros(static_cast<uint32_t>(sum)) - 1) / 2 - 1;
  right -= pairs;
  sum <<= 2 * pairs;
  const int32_t half_input = fx::saturating_rounding_multiply_by_pot(sum >> 1, -1);  // Q3
  const int32_t three_halves = (1 << 28) + (1 << 27);                                // 1.5 in Q3
  int32_t x = 1 << 28;                                                               // 1.0 in Q3
  for (int i = 0; i < 5; ++i) {
    const int32_t x3 = fx::fp_rescale(fx::fp_mul(fx::fp_mul(x, x), x), 9, 3);
    x = fx::fp_rescale(fx::wrap_sub(fx::fp_mul(three_halves, x), fx::fp_mul(half_input, x3)), 6, 3);
  }
  x = fx::fp_mul(x, 1518500250);  // sqrt(2)/2 in Q0
  if (right < 0) {
    x = fx::wrap_shl(x, -right);
    right = 0;
  }
  *multiplier = x;
  *shift = -right;
}

void l2_normalization(const OpContext& ctx) {
  const L2NormParams& p = ctx.params_as<L2NormParams>();
  const TemTensor& t = ctx.tensors[ctx.inputs[0]];
  const int32_t depth = static_cast<int32_t>(t.dims[t.rank - 1]);
  const int32_t rows = static_cast<int32_t>(t.bytes) / depth;
  for (int32_t r = 0; r < rows; ++r) {
    const int8_t* in = ctx.input + r * depth;
    int8_t* out = ctx.output + r * depth;
    int32_t sum = 0;
    for (int32_t c = 0; c < depth; ++c) sum += (in[c] - p.input_zero_point) * (in[c] - p.input_zero_point);
    int32_t multiplier = 0;
    int shift = 0;
    inv_sqrt(sum, &multiplier, &shift);
    // In-place safe: each element is read before it is written, and the sum is taken first.
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t v = fx::multiply_by_quantized_multiplier(in[c] - p.input_zero_point, multiplier, shift + 7);
      out[c] = static_cast<int8_t>(fx::clamp(v, -128, 127));
    }
  }
}

}  // namespace

extern const KernelRegistration l2_normalization_kernel{
    Kernel::kL2Normalization,
    InPlace::kSameOffset,
    validate,
    l2_normalization,
    l2_normalization,
    TINYEDGE_KERNEL_TEXT("L2_NORMALIZATION"),
    TINYEDGE_KERNEL_TEXT("int8 input (rank 1..4), int8 output of the same shape with scale 1/128 and zero point 0; "
                         "over the last dimension, at most 32768; no fused activation")};

}  // namespace tinyedge::runtime::kernels
