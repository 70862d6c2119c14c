// HARD_SWISH (int8): TFLite Micro's Prepare in float, as it computes them: the input on a
// 128-times finer "hires" scale, its ratio to the output scale and to the reluish scale (3.0 at
// 2^15), each as a Q31 multiplier and exponent rounded to 16 bits.
#include "deploy/model/lowering.h"
#include "deploy/model/op_table.h"
#include "deploy/model/quantize.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

struct HardSwishParams {  // runtime kernels/hard_swish.cpp
  int32_t input_zero_point, output_zero_point;
  int32_t output_multiplier, output_exponent;
  int32_t reluish_multiplier, reluish_exponent;
};

// TFLite's DownScaleInt32ToInt16Multiplier: a Q31 multiplier rounded to Q15, saturating.
int32_t to_q15(int32_t q31) {
  if (q31 >= 0x7FFFFFFF - (1 << 15)) return 32767;
  return (q31 + (1 << 15)) >> 16;
}

void lower(LowerContext& c) {
  c.need_inputs(1);
  c.need_outputs(1);
  const Tensor& in = c.activation(c.in(0));
  const Tensor& out = c.activation(c.out());
  if (in.element_count() != out.element_count()) c.fail("output must have the input's element count", c.out());
  const float hires_scale = (1.0f / 128.0f) * scale_of(in);
  const float reluish_scale = 3.0f / 32768.0f;
  int32_t output_q31 = 0, reluish_q31 = 0;
  int output_exponent = 0, reluish_exponent = 0;
  quantize_multiplier(static_cast<double>(hires_scale / scale_of(out)), &output_q31, &output_exponent);
  quantize_multiplier(static_cast<double>(hires_scale / reluish_scale), &reluish_q31, &reluish_exponent);
  if (output_exponent > 0) {
    c.fail("HARD_SWISH output scale must be at least the input scale / 128 (TFLite Micro's requirement)", c.out());
  }
  if (output_exponent < -31 || reluish_exponent < -31 || reluish_exponent > 30) {
    c.fail("HARD_SWISH input scale out of range", c.in(0));
  }
  Lowered& l = c.emit(rt::Kernel::kHardSwish);
  l.set_params(HardSwishParams{zp_of(in), zp_of(out), to_q15(output_q31), output_exponent, to_q15(reluish_q31),
                               reluish_exponent});
  l.in_place = Lowered::InPlace::kSameOffset;
}

}  // namespace

std::vector<OpDef> hard_swish_ops() { return {{117, "HARD_SWISH", nullptr, lower, nullptr}}; }

}  // namespace tinyedge::model
