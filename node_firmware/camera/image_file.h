// Image files as a host's camera and the trainer's data: PNG (libpng) and JPEG (libjpeg-turbo)
// decoded to 8-bit gray or RGB. Host only (not firmware). Errors are std::runtime_error naming the
// file and what is wrong with it; a truncated or corrupt file is refused, never half-read.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "node_firmware/camera/image_convert.h"

namespace tinyedge::camera {

struct DecodedImage {
  ImageShape shape;  // channels: 1 for gray files, else 3 (alpha dropped, palettes expanded)
  std::vector<uint8_t> pixels;
};

// Refuses images with more than this many pixels (a small file can claim a huge size).
inline constexpr uint64_t kMaxImagePixels = 64ull << 20;

DecodedImage read_image_file(const std::filesystem::path& path);
DecodedImage decode_image(const std::vector<uint8_t>& bytes, const std::string& name);

// True for the extensions read_image_file takes: .png, .jpg, .jpeg (any case).
bool is_image_file_name(const std::filesystem::path& path);

// Decoded, then converted to `shape` (see convert_image).
std::vector<uint8_t> read_image_as(const std::filesystem::path& path, ImageShape shape);

void write_png(const std::filesystem::path& path, const DecodedImage& image);
void write_jpeg(const std::filesystem::path& path, const DecodedImage& image, int quality = 90);

}  // namespace tinyedge::camera
