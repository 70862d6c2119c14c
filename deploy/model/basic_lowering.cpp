#include "deploy/model/basic_lowering.h"

#include <algorithm>
#include <cmath>

#include "deploy/model/quantize.h"
#include "node_firmware/runtime/in_place.h"
#include "node_firmware/runtime/kernels/basic_validate.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;

Geometry geometry(Padding p, int32_t in, int32_t filter, int32_t stride, int32_t dilation) {
  const int32_t eff = (filter - 1) * dilation + 1;
  Geometry g;
  g.out = p == Padding::kSame ? (in + stride - 1) / stride : (in + stride - eff) / stride;
  const int32_t total = std::max(0, (g.out - 1) * stride + eff - in);
  g.pad = p == Padding::kSame ? total / 2 : 0;
  return g;
}

void set_common(rt::BasicOpParams& p, const Tensor& in, const Tensor& out, Activation act) {
  p.input_offset = -zp_of(in);
  p.output_offset = zp_of(out);
  const bool int16 = out.type == DataType::kInt16;
  const ActivationRange r =
      activation_range(act, scale_of(out), zp_of(out), int16 ? -32768 : -128, int16 ? 32767 : 127);
  p.act_min = r.min;
  p.act_max = r.max;
}

void window(const LowerContext& c, rt::BasicOpParams& p, Lowered& l, const Tensor& in, const Tensor& out, int32_t fh,
            int32_t fw) {
  const OpOptions& o = c.op().options;
  if (o.stride_h < 1 || o.stride_w < 1 || o.stride_h > 255 || o.stride_w > 255) c.fail("stride out of range 1..255");
  if (o.dilation_h < 1 || o.dilation_w < 1 || o.dilation_h > 255 || o.dilation_w > 255) c.fail("dilation out of range");
  const Geometry gy = geometry(o.padding, dim(in, 1), fh, o.stride_h, o.dilation_h);
  const Geometry gx = geometry(o.padding, dim(in, 2), fw, o.stride_w, o.dilation_w);
  if (in.shape.size() != 4 || out.shape.size() != 4) c.fail("input and output must be 4-D NHWC");
  if (gy.out != dim(out, 1) || gx.out != dim(out, 2)) {
    c.fail("output shape " + std::to_string(dim(out, 1)) + "x" + std::to_string(dim(out, 2)) +
               " does not match geometry " + std::to_string(gy.out) + "x" + std::to_string(gx.out),
           c.out());
  }
  if (gy.pad > 255 || gx.pad > 255) c.fail("padding too large");
  p.stride_h = static_cast<uint8_t>(o.stride_h);
  p.stride_w = static_cast<uint8_t>(o.stride_w);
  p.dilation_h = static_cast<uint8_t>(o.dilation_h);
  p.dilation_w = static_cast<uint8_t>(o.dilation_w);
  p.pad_top = static_cast<uint8_t>(gy.pad);
  p.pad_left = static_cast<uint8_t>(gx.pad);
  if (dim(in, 0) == 1) {
    // Rows in bytes (int16 rows of the 16x8 kernels are twice their element count), as the loader checks.
    const auto in_row = static_cast<int32_t>(dim(in, 2) * dim(in, 3) * in.element_bytes());
    const auto out_row = static_cast<int32_t>(dim(out, 2) * dim(out, 3) * out.element_bytes());
    const rt::WindowGeometry geo{dim(in, 1), in_row, dim(out, 1), out_row, p.stride_h, p.pad_top};
    l.in_place = Lowered::InPlace::kWindow;
    l.window_gap = rt::in_place_gap(geo);
  }
}

void conv_quant(const LowerContext& c, Lowered& l, const Tensor& in, const Tensor& filter, const Tensor& out,
                int32_t channels, bool fc) {
  const size_t n = filter.quant.scales.size();
  if (n != 1 && n != static_cast<size_t>(channels)) c.fail("filter scales must be per tensor or per output channel");
  for (int32_t zp : filter.quant.zero_points) {
    if (zp != 0) c.fail("filter zero points must be 0 (symmetric int8 weights)");
  }
  std::vector<int32_t> mult(n), shift(n);
  for (size_t k = 0; k < n; ++k) {
    double real;
    if (fc && n == 1) {
      // TFLite GetQuantizedConvolutionMultipler: the scale product is taken in float.
      real = static_cast<double>(scale_of(in) * filter.quant.scales[0]) / static_cast<double>(scale_of(out));
    } else {
      real = static_cast<double>(scale_of(in)) * static_cast<double>(filter.quant.scales[k]) /
             static_cast<double>(scale_of(out));
    }
    if (!(real >= 0) || !std::isfinite(real)) c.fail("non-finite requantisation scale");
    int s = 0;
    quantize_multiplier(real, &mult[k], &s);
    if (s > 30 || s < -31) c.fail("requantisation shift out of range");
    shift[k] = s;
  }
  l.quant = mult;
  l.quant.insert(l.quant.end(), shift.begin(), shift.end());
  l.quant_count = static_cast<uint32_t>(n);
}

std::vector<int32_t> fold_bias(const Tensor& bias, int32_t input_offset, const std::vector<int64_t>& filter_sums) {
  std::vector<int32_t> packed(filter_sums.size());
  for (size_t k = 0; k < packed.size(); ++k) {
    const int64_t v = int64_t{read_i32(bias, k)} + int64_t{input_offset} * filter_sums[k];
    packed[k] = static_cast<int32_t>(static_cast<uint32_t>(v));  // wraps exactly like the int32 kernel sum
  }
  return packed;
}

void append_output_scales(Lowered& l, int32_t channels) {
  std::vector<uint32_t> words(static_cast<size_t>(channels) * 2);
  for (int32_t c = 0; c < channels; ++c) {
    const uint32_t q = l.quant_count > 1 ? static_cast<uint32_t>(c) : 0;
    runtime::output_scale_words(l.quant[q], l.quant[l.quant_count + q], &words[static_cast<size_t>(c) * 2]);
  }
  l.append_packed(words);
}

}  // namespace tinyedge::model
