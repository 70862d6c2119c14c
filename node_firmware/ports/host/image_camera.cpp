#include "node_firmware/ports/host/image_camera.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "node_firmware/camera/image_file.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::host {

namespace fs = std::filesystem;

std::vector<fs::path> camera_image_files(const fs::path& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return {path};
  if (!fs::is_directory(path, ec)) throw std::runtime_error("--images " + path.string() + ": no such file or folder");
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(path))
    if (e.is_regular_file() && camera::is_image_file_name(e.path())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw std::runtime_error("--images " + path.string() + ": no .png or .jpg files in it");
  return files;
}

std::optional<camera::ImageShape> model_image_shape(const runtime::Model& model) {
  const auto in = model.input_info();
  if (in.rank != 4 || in.dims[0] != 1 || (in.dims[3] != 1 && in.dims[3] != 3) || in.scale <= 0) return std::nullopt;
  return camera::ImageShape{static_cast<uint32_t>(in.dims[2]), static_cast<uint32_t>(in.dims[1]),
                            static_cast<uint32_t>(in.dims[3])};
}

void quantize_pixels(std::span<const uint8_t> pixels, float scale, int32_t zero_point, std::span<int8_t> out) {
  // pixel / 255 in the model's input quantisation (q = pixel - 128 for the trainer's models).
  for (size_t i = 0; i < pixels.size() && i < out.size(); ++i) {
    const float q = std::round(static_cast<float>(pixels[i]) / 255.0f / scale) + static_cast<float>(zero_point);
    out[i] = static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f));
  }
}

std::shared_ptr<const std::vector<int8_t>> load_camera_images(const std::string& path,
                                                              const std::vector<uint8_t>& model_blob) {
  runtime::Model model;
  if (runtime::Model::load(model_blob, model) != runtime::Status::kOk)
    throw std::runtime_error("--images: the model does not load");
  const auto shape = model_image_shape(model);
  if (!shape) throw std::runtime_error("--images: the model's input is not an image ([1, H, W, 1 or 3])");
  const auto in = model.input_info();
  auto tensors = std::make_shared<std::vector<int8_t>>();
  for (const auto& file : camera_image_files(path)) {
    const auto pixels = camera::read_image_as(file, *shape);
    const size_t at = tensors->size();
    tensors->resize(at + pixels.size());
    quantize_pixels(pixels, in.scale, in.zero_point, std::span(*tensors).subspan(at));
  }
  return tensors;
}

}  // namespace tinyedge::host
