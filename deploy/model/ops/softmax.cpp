// SOFTMAX, as TFLite Micro's Prepare resolves it (int8 input: up to 4096 classes): int8 in with int8 out (scale 1/256,
// zero point -128) or int16 out (scale 1/65536, zero point -32768), beta folded into a Q5.26 multiplier; int16 in and
// out (zero points 0, output scale 1/32768), beta folded into a multiplier onto the exp table's [-10, 0] domain, with
// TFLite's exp and 1/(1+x) tables built here in float exactly as TFLite Micro builds them at Prepare, and packed for
// the kernel.
#include <algorithm>
#include <cmath>
#include <limits>

#include "deploy/model/basic_lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"
#include "deploy/model/quantize.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

constexpr int kLutSteps = 512;  // 513 entries: 512 samples and the end point

void import(const fb::Operator& op, Op& out, const std::string&) {
  const auto* o = op.builtin_options_as_SoftmaxOptions();
  out.options.beta = o ? o->beta() : 1.0f;
}

// TFLite's int16 table of f over the int16 input range of (input_scale, input_zero_point), output
// in (output_scale, output_zero_point): a sample per 1/512 of the range, each lowered by half the
// rounded error linear interpolation makes at the step's midpoint, then the end point. Float
// throughout (TFLite's choice: the tables must come out bit for bit as TFLite Micro's).
template <class F>
std::vector<int16_t> int16_table(float input_scale, int32_t input_zero_point, float output_scale,
                                 int32_t output_zero_point, F f) {
  const float input_min = input_scale * static_cast<float>(-32768 - input_zero_point);
  const float input_max = input_scale * static_cast<float>(32767 - input_zero_point);
  const float output_min = output_scale * static_cast<float>(-32768 - output_zero_point);
  const float output_max = output_scale * static_cast<float>(32767 - output_zero_point);
  const float step = (input_max - input_min) / kLutSteps;
  const float half_step = step / 2;
  const float to_output = 65536.0f / (output_max - output_min);
  auto saturate = [](float v) { return static_cast<int16_t>(std::min(std::max(v, -32768.0f), 32767.0f)); };
  std::vector<int16_t> lut(kLutSteps + 1);
  for (int i = 0; i < kLutSteps; ++i) {
    const float at = input_min + static_cast<float>(i) * step;
    const float value = f(at);
    const float midpoint = f(at + half_step);
    const float next = f(input_min + static_cast<float>(i + 1) * step);
    const float sample = std::round(value * to_output);
    const float interpolated = std::round((next * to_output + std::round(value * to_output)) / 2);
    const float exact_midpoint = std::round(midpoint * to_output);
    const float bias = std::round((interpolated - exact_midpoint) / 2);
    lut[i] = saturate(sample - bias);
  }
  lut[kLutSteps] = saturate(std::round(f(input_max) * to_output));
  return lut;
}

void lower_int8(LowerContext& c, const Tensor& in, const Tensor& out) {
  const bool int16_out = out.type == DataType::kInt16;
  if (int16_out) {
    if (zp_of(out) != -32768 || std::fabs(scale_of(out) - 1.0f / 65536) > 0.001f / 65536) {
      c.fail("int16 softmax output of an int8 input must have scale 1/65536 and zero point -32768", c.out());
    }
  } else if (zp_of(out) != -128 || std::fabs(scale_of(out) - 1.0f / 256) > 1e-8f) {
    c.fail("int8 softmax output must have scale 1/256 and zero point -128", c.out());
  }
  if (in.shape.back() > 4096) c.fail("softmax of an int8 input over more than 4096 classes is not supported", c.in(0));
  Lowered& l = c.emit(rt::Kernel::kSoftmax);
  rt::BasicOpParams p{};
  p.depth_multiplier = 1;
  set_common(p, in, out, Activation::kNone);
  const SoftmaxParams q = softmax_params(c.op().options.beta, scale_of(in));
  if (q.beta_left_shift < 0 || q.beta_left_shift > 30) c.fail("softmax beta * input scale out of range", c.in(0));
  p.extra[0] = q.beta_multiplier;
  p.extra[1] = q.beta_left_shift;
  p.extra[2] = q.diff_min;
  // Same offset only when input and output take the same bytes (int16 out is twice the input).
  if (!int16_out) l.in_place = Lowered::InPlace::kSameOffset;
  l.set_params(p);
}

void lower_int16(LowerContext& c, const Tensor& in, const Tensor& out) {
  if (zp_of(in) != 0) c.fail("int16 softmax input must have zero point 0", c.in(0));
  if (zp_of(out) != 0 || std::fabs(scale_of(out) - 1.0f / 32768) > 0.001f / 32768) {
    c.fail("int16 softmax output must have scale 1/32768 and zero point 0", c.out());
  }
  if (in.shape.back() > 65535) c.fail("int16 softmax over more than 65535 classes is not supported", c.in(0));
  // The input difference onto [-65535, 0] for [-10, 0], the exp table's domain.
  int32_t multiplier = 0;
  int shift = 0;
  quantize_multiplier(static_cast<double>(scale_of(in)) * static_cast<double>(c.op().options.beta) / (10.0 / 65535.0),
                      &multiplier, &shift);
  if (shift < -31 || shift > 30) c.fail("softmax beta * input scale out of range", c.in(0));
  constexpr int32_t kRange = 65535;
  const std::vector<int16_t> exp_lut =
      int16_table(10.0f / kRange, 32767, 2.0f / kRange, 0, [](float x) { return std::exp(x); });
  const std::vector<int16_t> reciprocal_lut =
      int16_table(1.0f / kRange, -32768, 2.0f / kRange, 0, [](float x) { return 1.0f / (1.0f + x); });
  Lowered& l = c.emit(rt::Kernel::kSoftmax);
  rt::BasicOpParams p{};
  p.depth_multiplier = 1;
  set_common(p, in, out, Activation::kNone);
  p.extra[0] = multiplier;
  p.extra[1] = shift;
  l.append_packed(exp_lut);
  l.append_packed(reciprocal_lut);
  l.in_place = Lowered::InPlace::kSameOffset;
  l.set_params(p);
}

void lower(LowerContext& c) {
  c.need_inputs(1);
  c.need_outputs(1);
  const DataType in_type = c.tensor(c.in(0)).type;
  const DataType out_type = c.tensor(c.out()).type;
  if (in_type != DataType::kInt8 && in_type != DataType::kInt16) {
    c.fail(std::string(type_name(in_type)) + ": type not supported here (SOFTMAX takes int8 or int16)", c.in(0));
  }
  if (out_type != DataType::kInt8 && out_type != DataType::kInt16) {
    c.fail(std::string(type_name(out_type)) + ": type not supported here (SOFTMAX makes int8 or int16)", c.out());
  }
  if (in_type == DataType::kInt16 && out_type != DataType::kInt16) {
    c.fail("an int16 softmax input needs an int16 output", c.out());
  }
  const Tensor& in = c.activation(c.in(0), in_type);
  const Tensor& out = c.activation(c.out(), out_type);
  if (in.shape != out.shape) c.fail("softmax must keep its shape", c.out());
  if (in.shape.empty() || in.shape.size() > 4) c.fail("softmax input must have rank 1 to 4", c.in(0));
  if (in_type == DataType::kInt16) {
    lower_int16(c, in, out);
  } else {
    lower_int8(c, in, out);
  }
}

}  // namespace

std::vector<OpDef> softmax_ops() { return {{25, "SOFTMAX", import, lower, nullptr}}; }

}  // namespace tinyedge::model
