#include "node_firmware/camera/image_convert.h"

namespace tinyedge::camera {

const char* to_string(ImageStatus status) {
  switch (status) {
    case ImageStatus::kOk:
      return "ok";
    case ImageStatus::kBadSize:
      return "image width or height is 0 or larger than 16384";
    case ImageStatus::kBadChannels:
      return "image channels must be 1 (gray) or 3 (RGB)";
    case ImageStatus::kWrongBufferSize:
      return "pixel buffer size does not match the image shape";
  }
  return "unknown image status";
}

ImageStatus validate(ImageShape s) {
  if (s.width == 0 || s.height == 0 || s.width > kMaxImageSide || s.height > kMaxImageSide)
    return ImageStatus::kBadSize;
  if (s.channels != 1 && s.channels != 3) return ImageStatus::kBadChannels;
  return ImageStatus::kOk;
}

namespace {

// The source span [lo, hi) an output index covers along one axis (never empty).
void source_span(uint32_t out, uint32_t out_size, uint32_t in_size, uint32_t& lo, uint32_t& hi) {
  lo = static_cast<uint32_t>(static_cast<uint64_t>(out) * in_size / out_size);
  hi = static_cast<uint32_t>(static_cast<uint64_t>(out + 1) * in_size / out_size);
  if (hi <= lo) hi = lo + 1;
}

// BT.601 luma, weights summing to 256: 0.299, 0.587, 0.114.
uint32_t luma(uint32_t r, uint32_t g, uint32_t b) { return 77 * r + 150 * g + 29 * b; }

}  // namespace

ImageStatus convert_image(std::span<const uint8_t> src, ImageShape src_shape, std::span<uint8_t> dst,
                          ImageShape dst_shape) {
  if (const auto s = validate(src_shape); s != ImageStatus::kOk) return s;
  if (const auto s = validate(dst_shape); s != ImageStatus::kOk) return s;
  if (src.size() != src_shape.bytes() || dst.size() != dst_shape.bytes()) return ImageStatus::kWrongBufferSize;
  const uint32_t sc = src_shape.channels, dc = dst_shape.channels;
  for (uint32_t y = 0; y < dst_shape.height; ++y) {
    uint32_t y0, y1;
    source_span(y, dst_shape.height, src_shape.height, y0, y1);
    for (uint32_t x = 0; x < dst_shape.width; ++x) {
      uint32_t x0, x1;
      source_span(x, dst_shape.width, src_shape.width, x0, x1);
      // Sums of at most 16384^2 pixels of 255 * 256 overflow 32 bits: 64-bit sums.
      uint64_t sum[3] = {0, 0, 0};
      for (uint32_t sy = y0; sy < y1; ++sy) {
        const uint8_t* row = src.data() + (static_cast<uint64_t>(sy) * src_shape.width + x0) * sc;
        for (uint32_t sx = x0; sx < x1; ++sx, row += sc) {
          if (sc == dc) {
            for (uint32_t c = 0; c < sc; ++c) sum[c] += row[c];
          } else if (sc == 3) {  // RGB -> gray
            sum[0] += luma(row[0], row[1], row[2]);
          } else {  // gray -> RGB
            sum[0] += row[0];
          }
        }
      }
      const uint64_t n = static_cast<uint64_t>(y1 - y0) * (x1 - x0);
      const uint64_t weight = (sc == 3 && dc == 1) ? 256 : 1;  // luma sums carry the 256 of the weights
      uint8_t* out = dst.data() + (static_cast<uint64_t>(y) * dst_shape.width + x) * dc;
      for (uint32_t c = 0; c < dc; ++c) {
        const uint64_t s = sc == dc ? sum[c] : sum[0];
        out[c] = static_cast<uint8_t>((s + n * weight / 2) / (n * weight));
      }
    }
  }
  return ImageStatus::kOk;
}

void pixels_to_int8(std::span<const uint8_t> pixels, std::span<int8_t> input) {
  const auto n = pixels.size() < input.size() ? pixels.size() : input.size();
  for (std::size_t i = 0; i < n; ++i) input[i] = static_cast<int8_t>(static_cast<int>(pixels[i]) - 128);
}

}  // namespace tinyedge::camera
