// RESIZE_NEAREST_NEIGHBOR (int8, int16) and RESIZE_BILINEAR (int8) against TFLite's definitions
// worked out by hand: nearest = floor((i + offset) * scale) (or round with align_corners),
// bilinear in 10-bit positions and 20-bit weights rounded half away from zero.
#include <gtest/gtest.h>

#include "tests/runtime/single_op_tem.h"

namespace tinyedge::testing {
namespace {

using runtime::Kernel;
using runtime::Status;
using runtime::TemType;

struct ResizeParams {
  uint8_t align_corners, half_pixel_centers, reserved[2];
};

std::vector<uint8_t> resize_tem(Kernel k, TemType type, std::vector<uint32_t> in_dims, std::vector<uint32_t> out_dims,
                                ResizeParams p, bool with_size = true, int32_t out_zp = 0) {
  SingleOpTem b;
  const int in = b.add({type, in_dims, 0, {}});
  std::vector<int> inputs{in};
  if (with_size) {
    inputs.push_back(
        b.add({TemType::kInt32, {2}, 0, raw(std::vector<int32_t>{int32_t(out_dims[1]), int32_t(out_dims[2])})}));
  }
  const int out = b.add({type, out_dims, out_zp, {}});
  b.set_op(k, inputs, {out}, p);
  return b.build();
}

template <class T>
std::vector<T> run(const std::vector<uint8_t>& tem, const std::vector<T>& input) {
  OpRun r;
  EXPECT_EQ(r.load(tem), Status::kOk);
  if (!r.model.loaded()) return {};
  r.set_input(0, input);
  EXPECT_EQ(r.interp.invoke(), Status::kOk);
  return r.output<T>();
}

TEST(ResizeNearestNeighborKernel, UpscalesByTwo) {
  const auto tem = resize_tem(Kernel::kResizeNearestNeighbor, TemType::kInt8, {1, 2, 2, 1}, {1, 4, 4, 1}, {0, 0, {}});
  EXPECT_EQ(run<int8_t>(tem, {1, 2, 3, 4}), (std::vector<int8_t>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST(ResizeNearestNeighborKernel, AlignCornersRoundsHalfUp) {
  // 2 -> 3 columns, scale (2-1)/(3-1) = 0.5: round(0), round(0.5) = 1, round(1) = 1.
  const auto tem = resize_tem(Kernel::kResizeNearestNeighbor, TemType::kInt8, {1, 1, 2, 2}, {1, 1, 3, 2}, {1, 0, {}});
  EXPECT_EQ(run<int8_t>(tem, {10, 11, 20, 21}), (std::vector<int8_t>{10, 11, 20, 21, 20, 21}));
}

TEST(ResizeNearestNeighborKernel, HalfPixelCentersInt16) {
  // 2 -> 3: (i + 0.5) * 2/3 = 0.33, 1.0, 1.67 -> 0, 1, 1;  3 -> 2: (i + 0.5) * 1.5 = 0.75, 2.25 -> 0, 2.
  const auto up = resize_tem(Kernel::kResizeNearestNeighbor, TemType::kInt16, {1, 1, 2, 1}, {1, 1, 3, 1}, {0, 1, {}});
  EXPECT_EQ(run<int16_t>(up, {-30000, 30000}), (std::vector<int16_t>{-30000, 30000, 30000}));
  const auto down =
      resize_tem(Kernel::kResizeNearestNeighbor, TemType::kInt16, {1, 3, 1, 1}, {1, 2, 1, 1}, {0, 1, {}}, false);
  EXPECT_EQ(run<int16_t>(down, {7, 8, 9}), (std::vector<int16_t>{7, 9}));
}

TEST(ResizeNearestNeighborKernel, LoaderRefusesBadOperands) {
  OpRun r;
  // Both flags; size tensor disagreeing with the output; requantising zero points; other channels.
  EXPECT_EQ(r.load(resize_tem(Kernel::kResizeNearestNeighbor, TemType::kInt8, {1, 2, 2, 1}, {1, 4, 4, 1}, {1, 1, {}})),
            Status::kBadParams);
  SingleOpTem b;
  const int in = b.add({TemType::kInt8, {1, 2, 2, 1}, 0, {}});
  const int size = b.add({TemType::kInt32, {2}, 0, raw(std::vector<int32_t>{4, 5})});
  const int out = b.add({TemType::kInt8, {1, 4, 4, 1}, 0, {}});
  b.set_op(Kernel::kResizeNearestNeighbor, {in, size}, {out}, ResizeParams{});
  EXPECT_EQ(r.load(b.build()), Status::kBadShape);
  EXPECT_EQ(r.load(resize_tem(Kernel::kResizeNearestNeighbor, TemType::kInt8, {1, 2, 2, 1}, {1, 4, 4, 1}, {}, true, 3)),
            Status::kBadQuantization);
  EXPECT_EQ(r.load(resize_tem(Kernel::kResizeNearestNeighbor, TemType::kInt8, {1, 2, 2, 1}, {1, 4, 4, 2}, {})),
            Status::kBadShape);
  EXPECT_FALSE(r.model.loaded());
}

TEST(ResizeBilinearKernel, InterpolatesAndRoundsHalfAwayFromZero) {
  // 2 -> 4 columns: scale_10 = 512; x = 1 sits halfway: 101/2 = 50.5 -> 51, -101/2 -> -51.
  const auto tem = resize_tem(Kernel::kResizeBilinear, TemType::kInt8, {1, 1, 2, 1}, {1, 1, 4, 1}, {0, 0, {}});
  EXPECT_EQ(run<int8_t>(tem, {0, 100}), (std::vector<int8_t>{0, 50, 100, 100}));
  EXPECT_EQ(run<int8_t>(tem, {0, 101}), (std::vector<int8_t>{0, 51, 101, 101}));
  EXPECT_EQ(run<int8_t>(tem, {0, -101}), (std::vector<int8_t>{0, -51, -101, -101}));
}

TEST(ResizeBilinearKernel, HalfPixelCentersAndAlignCorners) {
  // half pixel: positions -0.25, 0.25, 0.75, 1.25 (clamped to the edges) of {0, 101}.
  const auto half = resize_tem(Kernel::kResizeBilinear, TemType::kInt8, {1, 1, 2, 1}, {1, 1, 4, 1}, {0, 1, {}});
  EXPECT_EQ(run<int8_t>(half, {0, 101}), (std::vector<int8_t>{0, 25, 76, 101}));
  // align corners 2 -> 3: positions 0, 0.5, 1.
  const auto corners = resize_tem(Kernel::kResizeBilinear, TemType::kInt8, {1, 2, 1, 1}, {1, 3, 1, 1}, {1, 0, {}});
  EXPECT_EQ(run<int8_t>(corners, {-100, 100}), (std::vector<int8_t>{-100, 0, 100}));
  OpRun r;  // int16 is not a TFLite Micro bilinear type
  EXPECT_EQ(r.load(resize_tem(Kernel::kResizeBilinear, TemType::kInt16, {1, 1, 2, 1}, {1, 1, 4, 1}, {})),
            Status::kBadIndex);
}

}  // namespace
}  // namespace tinyedge::testing
