#include "node_firmware/camera/image_file.h"

// clang-format off
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <jpeglib.h>
// clang-format on
#include <png.h>

#include <algorithm>
#include <cctype>
#include <csetjmp>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace tinyedge::camera {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw std::runtime_error(name + ": " + what);
}

void check_size(const std::string& name, uint64_t width, uint64_t height) {
  if (width == 0 || height == 0) fail(name, "image has no pixels");
  if (width > kMaxImageSide || height > kMaxImageSide || width * height > kMaxImagePixels)
    fail(name, "image of " + std::to_string(width) + "x" + std::to_string(height) + " pixels is too large");
}

DecodedImage decode_png(const std::vector<uint8_t>& bytes, const std::string& name) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()))
    fail(name, std::string("corrupt PNG: ") + image.message);
  check_size(name, image.width, image.height);
  const bool gray = (image.format & PNG_FORMAT_FLAG_COLOR) == 0;
  image.format = gray ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;  // alpha composited onto black by libpng
  DecodedImage out;
  out.shape = {image.width, image.height, gray ? 1u : 3u};
  out.pixels.resize(out.shape.bytes());
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
    const std::string message = image.message;
    png_image_free(&image);
    fail(name, "corrupt PNG: " + message);
  }
  return out;
}

// libjpeg reports errors through a callback that must not return: jump back out of the decoder.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_jpeg_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  cinfo->err->format_message(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (e.g. "Premature end of JPEG file", after which libjpeg fills the rest with gray) are
// errors here: a half-decoded image must not train a model.
void on_jpeg_message(j_common_ptr cinfo, int level) {
  if (level < 0) on_jpeg_error(cinfo);
}

DecodedImage decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& name) {
  jpeg_decompress_struct cinfo{};
  JpegError err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = on_jpeg_error;
  err.mgr.emit_message = on_jpeg_message;
  // Nothing with a destructor lives between setjmp and the jumps below.
  DecodedImage* out = new DecodedImage;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    delete out;
    fail(name, std::string("corrupt JPEG: ") + err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  const bool gray = cinfo.num_components == 1;
  cinfo.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  const uint64_t width = cinfo.image_width, height = cinfo.image_height;
  if (width == 0 || height == 0 || width > kMaxImageSide || height > kMaxImageSide ||
      width * height > kMaxImagePixels) {
    jpeg_destroy_decompress(&cinfo);
    delete out;
    check_size(name, width, height);
  }
  jpeg_start_decompress(&cinfo);
  out->shape = {cinfo.output_width, cinfo.output_height, static_cast<uint32_t>(cinfo.output_components)};
  out->pixels.resize(out->shape.bytes());
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row =
        out->pixels.data() + static_cast<std::size_t>(cinfo.output_scanline) * out->shape.width * out->shape.channels;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  DecodedImage result = std::move(*out);
  delete out;
  return result;
}

}  // namespace

DecodedImage decode_image(const std::vector<uint8_t>& bytes, const std::string& name) {
  static constexpr uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 8 && std::equal(kPng, kPng + 8, bytes.begin())) return decode_png(bytes, name);
  if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) return decode_jpeg(bytes, name);
  if (bytes.empty()) fail(name, "empty file, not an image");
  fail(name, "not a PNG or JPEG image");
}

DecodedImage read_image_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), "cannot open");
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return decode_image(bytes, path.string());
}

bool is_image_file_name(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

std::vector<uint8_t> read_image_as(const std::filesystem::path& path, ImageShape shape) {
  const auto image = read_image_file(path);
  std::vector<uint8_t> out(shape.bytes());
  if (const auto s = convert_image(image.pixels, image.shape, out, shape); s != ImageStatus::kOk)
    fail(path.string(), to_string(s));
  return out;
}

void write_png(const std::filesystem::path& path, const DecodedImage& image) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = image.shape.width;
  png.height = image.shape.height;
  png.format = image.shape.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  if (!png_image_write_to_file(&png, path.c_str(), 0, image.pixels.data(), 0, nullptr))
    fail(path.string(), std::string("cannot write PNG: ") + png.message);
}

void write_jpeg(const std::filesystem::path& path, const DecodedImage& image, int quality) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr err{};
  cinfo.err = jpeg_std_error(&err);  // errors here are programming errors (exit), the file is checked first
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) fail(path.string(), "cannot write");
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, f);
  cinfo.image_width = image.shape.width;
  cinfo.image_height = image.shape.height;
  cinfo.input_components = static_cast<int>(image.shape.channels);
  cinfo.in_color_space = image.shape.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(image.pixels.data()) +
                   static_cast<std::size_t>(cinfo.next_scanline) * image.shape.width * image.shape.channels;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  if (std::fclose(f) != 0) fail(path.string(), "cannot write");
}

}  // namespace tinyedge::camera
