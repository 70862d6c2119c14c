// A camera frame (8-bit gray or RGB, any size) -> the model's input image: resized by box
// averaging (each output pixel is the mean of the source pixels it covers, so downscaling does not
// alias; upscaling repeats pixels) and converted to the model's channels (RGB -> gray with the
// BT.601 luma weights in fixed point; gray -> RGB by copying). The trainer, `model eval` and the
// node all convert through this one function, so a model sees on the node what it was trained on.
// Freestanding: no heap, integer arithmetic only.
#pragma once
#include <cstdint>
#include <span>

namespace tinyedge::camera {

enum class ImageStatus : uint8_t {
  kOk,
  kBadSize,      // a width or height of 0, or more than kMaxImageSide
  kBadChannels,  // channels other than 1 (gray) or 3 (RGB)
  kWrongBufferSize,
};
const char* to_string(ImageStatus status);

inline constexpr uint32_t kMaxImageSide = 16384;

struct ImageShape {
  uint32_t width = 0, height = 0, channels = 0;  // row-major, channels interleaved (HWC)
  uint32_t bytes() const { return width * height * channels; }
};

[[nodiscard]] ImageStatus validate(ImageShape shape);

// `src` holds src_shape.bytes() pixels, `dst` exactly dst_shape.bytes().
[[nodiscard]] ImageStatus convert_image(std::span<const uint8_t> src, ImageShape src_shape, std::span<uint8_t> dst,
                                        ImageShape dst_shape);

// Pixels -> the model's int8 input, for the usual image input quantisation (scale 1/255, zero point
// -128: q = pixel - 128), in place of a float round trip.
void pixels_to_int8(std::span<const uint8_t> pixels, std::span<int8_t> input);

}  // namespace tinyedge::camera
