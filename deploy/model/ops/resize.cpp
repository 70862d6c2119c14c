// RESIZE_NEAREST_NEIGHBOR (int8, int16) and RESIZE_BILINEAR (int8): 4-D NHWC, the constant size
// tensor equal to the output's H and W, the input's quantisation kept (a resize copies or
// interpolates values, it never rescales them).
#include "deploy/model/lowering.h"
#include "deploy/model/op_import.h"
#include "deploy/model/op_table.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

struct ResizeParams {  // runtime kernels/resize.h
  uint8_t align_corners, half_pixel_centers, reserved[2];
};

void import_nearest(const fb::Operator& op, Op& out, const std::string&) {
  const auto* o = op.builtin_options_as_ResizeNearestNeighborOptions();
  out.options.ints["align_corners"] = o && o->align_corners();
  out.options.ints["half_pixel_centers"] = o && o->half_pixel_centers();
}

void import_bilinear(const fb::Operator& op, Op& out, const std::string&) {
  const auto* o = op.builtin_options_as_ResizeBilinearOptions();
  out.options.ints["align_corners"] = o && o->align_corners();
  out.options.ints["half_pixel_centers"] = o && o->half_pixel_centers();
}

void lower(LowerContext& c) {
  c.need_inputs(2);
  c.need_outputs(1);
  const bool nearest = c.op().kind == static_cast<OpKind>(rt::Kernel::kResizeNearestNeighbor);
  const DataType type = nearest && c.tensor(c.in(0)).type == DataType::kInt16 ? DataType::kInt16 : DataType::kInt8;
  const Tensor& in = c.activation(c.in(0), type);
  const Tensor& size = c.constant(c.in(1), DataType::kInt32);
  const Tensor& out = c.activation(c.out(), type);
  if (in.shape.size() != 4 || out.shape.size() != 4) c.fail("input and output must be 4-D NHWC");
  if (dim(in, 0) != dim(out, 0) || dim(in, 3) != dim(out, 3)) c.fail("resize keeps batch and channels", c.out());
  if (size.element_count() != 2 || read_i32(size, 0) != dim(out, 1) || read_i32(size, 1) != dim(out, 2)) {
    c.fail("size must be the output's [height, width]", c.in(1));
  }
  if (scale_of(in) != scale_of(out) || zp_of(in) != zp_of(out)) {
    c.fail("output must have the input's quantisation", c.out());
  }
  const bool align = c.op().options.int_or("align_corners", 0) != 0;
  const bool half = c.op().options.int_or("half_pixel_centers", 0) != 0;
  if (align && half) c.fail("align_corners and half_pixel_centers together are not supported");
  Lowered& l = c.emit(nearest ? rt::Kernel::kResizeNearestNeighbor : rt::Kernel::kResizeBilinear);
  l.set_params(ResizeParams{static_cast<uint8_t>(align), static_cast<uint8_t>(half), {}});
}

}  // namespace

std::vector<OpDef> resize_ops() {
  return {{static_cast<int32_t>(rt::Kernel::kResizeNearestNeighbor), "RESIZE_NEAREST_NEIGHBOR", import_nearest, lower,
           nullptr},
          {23, "RESIZE_BILINEAR", import_bilinear, lower, nullptr}};
}

}  // namespace tinyedge::model
