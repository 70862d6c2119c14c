// RESIZE_BILINEAR, int8 (TFLite's ResizeBilinearInteger): positions in 10-bit fixed point, the
// four neighbours weighted in 20-bit fixed point, rounded half away from zero.
#include "node_firmware/runtime/kernels/resize.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) { return validate_resize(v, false); }

struct Axis {
  int32_t scaled, lo, hi;
};

Axis axis_position(int32_t index, int32_t scale_10, bool half_pixel_centers, int32_t in_size) {
  Axis a;
  a.scaled = half_pixel_centers ? index * scale_10 + scale_10 / 2 - (1 << 9) : index * scale_10;
  a.lo = a.scaled / (1 << 10);  // C division: toward zero, as TFLite
  if (a.lo < 0) a.lo = 0;
  a.hi = (a.scaled + (1 << 10) - 1) / (1 << 10);
  if (a.hi > in_size - 1) a.hi = in_size - 1;
  return a;
}

int32_t scale_10(int32_t in_size, int32_t out_size, bool align_corners) {
  if (align_corners && out_size > 1) return ((1 << 10) * (in_size - 1) + (out_size - 1) / 2) / (out_size - 1);
  return ((1 << 10) * in_size + out_size / 2) / out_size;
}

void resize_bilinear(const OpContext& ctx) {
  const ResizeParams& p = ctx.params_as<ResizeParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& out = ctx.output_shape;
  const int32_t sy = scale_10(in.h, out.h, p.align_corners != 0);
  const int32_t sx = scale_10(in.w, out.w, p.align_corners != 0);
  for (int32_t b = 0; b < out.n; ++b) {
    const int8_t* image = ctx.input + static_cast<size_t>(b) * in.h * in.w * in.c;
    for (int32_t y = 0; y < out.h; ++y) {
      const Axis ay = axis_position(y, sy, p.half_pixel_centers != 0, in.h);
      const int64_t dy = ay.scaled - (1 << 10) * ay.lo;  // weight of the upper row
      for (int32_t x = 0; x < out.w; ++x) {
        const Axis ax = axis_position(x, sx, p.half_pixel_centers != 0, in.w);
        const int64_t dx = ax.scaled - (1 << 10) * ax.lo;
        const int8_t* p00 = image + (ay.lo * in.w + ax.lo) * in.c;
        const int8_t* p10 = image + (ay.hi * in.w + ax.lo) * in.c;
        const int8_t* p01 = image + (ay.lo * in.w + ax.hi) * in.c;
        const int8_t* p11 = image + (ay.hi * in.w + ax.hi) * in.c;
        int8_t* dst = ctx.output + ((static_cast<size_t>(b) * out.h + y) * out.w + x) * out.c;
        for (int32_t c = 0; c < in.c; ++c) {
          const int64_t sum = p00[c] * ((1 << 10) - dy) * ((1 << 10) - dx) + p10[c] * dy * ((1 << 10) - dx) +
                              p01[c] * ((1 << 10) - dy) * dx + p11[c] * dy * dx;
          const int64_t round = sum > 0 ? (1 << 19) : -(1 << 19);
          dst[c] = static_cast<int8_t>((sum + round) / (1 << 20));
        }
      }
    }
  }
}

}  // namespace

extern const KernelRegistration resize_bilinear_kernel{
    Kernel::kResizeBilinear,
    InPlace::kNever,
    validate,
    resize_bilinear,
    resize_bilinear,
    TINYEDGE_KERNEL_TEXT("RESIZE_BILINEAR"),
    TINYEDGE_KERNEL_TEXT("int8 input [N,H,W,C], constant int32 size [2], int8 output [N,H',W',C] of the same "
                         "quantisation; align_corners, half_pixel_centers (not both)")};

}  // namespace tinyedge::runtime::kernels
