// LOGISTIC (output 1/256, zero point -128) and TANH (output 1/128, zero point 0), int8: the input
// rescaled into Q4.27 by frexp(input_scale * 2^27) and saturated beyond TFLite's input radius.
// int16 (zero points 0, output scale 2^-15): the input onto TFLite's sigmoid table scale by an
// integer multiplier and right shift, resolved as TFLite Micro's Prepare does.
#include <cmath>

#include "deploy/model/lowering.h"
#include "deploy/model/op_table.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

struct SigmoidParams {  // runtime kernels/sigmoid.h
  int32_t input_zero_point, input_range_radius, input_multiplier, input_left_shift;
};

// TFLite's CheckedLog2, in float as TFLite computes it: log2 of x rounded, and whether x is a power
// of two (within 1e-3 in the exponent).
bool checked_log2(float x, int* log2) {
  const float exact = std::log(x) * (1.0f / std::log(2.0f));
  const float rounded = std::round(exact);
  *log2 = static_cast<int>(rounded);
  return std::fabs(exact - rounded) < 1e-3f;
}

void lower_int16(LowerContext& c, bool logistic) {
  const Tensor& in = c.activation(c.in(0), DataType::kInt16);
  const Tensor& out = c.activation(c.out(), DataType::kInt16);
  const char* name = logistic ? "LOGISTIC" : "TANH";
  if (in.element_count() != out.element_count()) c.fail("output must have the input's element count", c.out());
  if (zp_of(in) != 0) c.fail(std::string("int16 ") + name + " input must have zero point 0", c.in(0));
  int out_log2 = 0;
  if (zp_of(out) != 0 || !checked_log2(scale_of(out), &out_log2) || out_log2 != -15) {
    c.fail(std::string("int16 ") + name + " output must have scale 2^-15 and zero point 0", c.out());
  }
  // The table takes the input in units of 1/(3 * 4096) (+-2^17 for +-10.7). A power-of-two input
  // scale of 2^-12 (TANH: or 2^-11) is exactly multiplier 3 (6); otherwise the multiplier is the
  // scale times 3 * 4096 doubled up to 2^14 (truncated), and the shift counts the doublings.
  constexpr int kInputIntegerBits = 3;
  int in_log2 = 0;
  const bool pot = checked_log2(scale_of(in), &in_log2);
  const int pot_shift = (15 - kInputIntegerBits) + in_log2;
  int32_t multiplier = 0;
  int shift = 0;
  if (pot && (pot_shift == 0 || (!logistic && pot_shift == 1))) {
    multiplier = 3 << pot_shift;
  } else {
    double m = static_cast<double>(scale_of(in)) * 4096.0 * 3.0;
    while (m <= 32767.0 / 2.0 && shift <= 30) {
      ++shift;
      m *= 2.0;
    }
    if (m > 32767.0) c.fail(std::string("int16 ") + name + " input scale too large for TFLite's table", c.in(0));
    if (shift > 30) c.fail(std::string("int16 ") + name + " input scale too small for TFLite's table", c.in(0));
    multiplier = static_cast<int32_t>(m);
  }
  Lowered& l = c.emit(logistic ? rt::Kernel::kLogistic : rt::Kernel::kTanh);
  l.set_params(SigmoidParams{0, 0, multiplier, shift});
  l.in_place = Lowered::InPlace::kSameOffset;
}

void lower(LowerContext& c) {
  c.need_inputs(1);
  c.need_outputs(1);
  const bool logistic = c.op().kind == static_cast<OpKind>(14);
  if (c.tensor(c.in(0)).type == DataType::kInt16) {
    lower_int16(c, logistic);
    return;
  }
  const Tensor& in = c.activation(c.in(0));
  const Tensor& out = c.activation(c.out());
  if (in.element_count() != out.element_count()) c.fail("output must have the input's element count", c.out());
  const float want_scale = logistic ? 1.0f / 256 : 1.0f / 128;
  const int32_t want_zp = logistic ? -128 : 0;
  if (zp_of(out) != want_zp || std::fabs(scale_of(out) - want_scale) > 1e-8f) {
    c.fail(std::string("int8 ") + (logistic ? "LOGISTIC output must have scale 1/256 and zero point -128"
                                            : "TANH output must have scale 1/128 and zero point 0"),
           c.out());
  }
  constexpr int kInputIntegerBits = 4;
  const double real = static_cast<double>(scale_of(in)) * static_cast<double>(1 << (31 - kInputIntegerBits));
  int shift = 0;
  const double q = std::frexp(real, &shift);
  const auto multiplier = static_cast<int64_t>(std::round(q * static_cast<double>(1LL << 31)));
  if (multiplier > 0x7FFFFFFF || shift < -31 || shift > 30) c.fail("input scale out of range", c.in(0));
  const double radius =
      std::floor(((1 << kInputIntegerBits) - 1) * static_cast<double>(1LL << (31 - kInputIntegerBits)) /
                 static_cast<double>(1LL << shift));
  Lowered& l = c.emit(logistic ? rt::Kernel::kLogistic : rt::Kernel::kTanh);
  l.set_params(SigmoidParams{zp_of(in), static_cast<int32_t>(std::min(radius, 2147483647.0)),
                             static_cast<int32_t>(multiplier), shift});
  l.in_place = Lowered::InPlace::kSameOffset;
}

}  // namespace

std::vector<OpDef> logistic_ops() {
  return {{14, "LOGISTIC", nullptr, lower, nullptr}, {28, "TANH", nullptr, lower, nullptr}};
}

}  // namespace tinyedge::model
