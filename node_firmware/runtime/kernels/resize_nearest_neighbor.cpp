// RESIZE_NEAREST_NEIGHBOR, int8 and int16 (TFLite's reference semantics). The source row/column
// of an output position is computed in float exactly as TFLite does (scale in float, floor, or
// round half away from zero with align_corners), so the choice of pixel matches bit for bit.
#include <cstring>

#include "node_firmware/runtime/kernels/resize.h"

namespace tinyedge::runtime::kernels {
namespace {

Status validate(const ValidateContext& v) { return validate_resize(v, true); }

int32_t nearest(int32_t out_index, int32_t in_size, int32_t out_size, const ResizeParams& p) {
  const float scale = p.align_corners && out_size > 1
                          ? static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1)
                          : static_cast<float>(in_size) / static_cast<float>(out_size);
  const float offset = p.half_pixel_centers ? 0.5f : 0.0f;
  const float position = (static_cast<float>(out_index) + offset) * scale;  // >= 0
  // Truncation is floor for position >= 0; the fractional part is exact (position < 2^24).
  int32_t index = static_cast<int32_t>(position);
  if (p.align_corners && position - static_cast<float>(index) >= 0.5f) ++index;
  if (index > in_size - 1) index = in_size - 1;
  return index < 0 ? 0 : index;
}

void resize_nearest_neighbor(const OpContext& ctx) {
  const ResizeParams& p = ctx.params_as<ResizeParams>();
  const Shape4& in = ctx.input_shape;
  const Shape4& out = ctx.output_shape;
  const size_t element = ctx.tensors[ctx.inputs[0]].type == static_cast<uint8_t>(TemType::kInt16) ? 2 : 1;
  const size_t pixel = static_cast<size_t>(in.c) * element;
  const uint8_t* src = ctx.data(ctx.inputs[0]);
  uint8_t* dst = ctx.mutable_data(ctx.outputs[0]);
  for (int32_t b = 0; b < out.n; ++b) {
    const uint8_t* image = src + static_cast<size_t>(b) * in.h * in.w * pixel;
    for (int32_t y = 0; y < out.h; ++y) {
      const uint8_t* row = image + static_cast<size_t>(nearest(y, in.h, out.h, p)) * in.w * pixel;
      for (int32_t x = 0; x < out.w; ++x, dst += pixel) {
        std::memcpy(dst, row + static_cast<size_t>(nearest(x, in.w, out.w, p)) * pixel, pixel);
      }
    }
  }
}

}  // namespace

extern const KernelRegistration resize_nearest_neighbor_kernel{
    Kernel::kResizeNearestNeighbor,
    InPlace::kNever,
    validate,
    resize_nearest_neighbor,
    resize_nearest_neighbor,
    TINYEDGE_KERNEL_TEXT("RESIZE_NEAREST_NEIGHBOR"),
    TINYEDGE_KERNEL_TEXT("int8 or int16 input [N,H,W,C], constant int32 size [2], output [N,H',W',C] of the same "
                         "type and quantisation; align_corners, half_pixel_centers (not both)")};

}  // namespace tinyedge::runtime::kernels
