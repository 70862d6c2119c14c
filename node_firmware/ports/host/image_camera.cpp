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

std::shared_ptr<const std::vector<int8_t>> load_camera_images(const std::string& path,
                                                              const std::vector<uint8_t>& model_blob) {
  runtime::Model model;
  if (runtime::Model::load(model_blob, model) != runtime::Status::kOk)
    throw std::runtime_error("--images: the model does not load");
  const auto in = model.input_info();
  if (in.rank != 4 || in.dims[0] != 1 || (in.dims[3] != 1 && in.dims[3] != 3) || in.scale <= 0)
    throw std::runtime_error("--images: the model's input is not an image ([1, H, W, 1 or 3])");
  const camera::ImageShape shape{static_cast<uint32_t>(in.dims[2]), static_cast<uint32_t>(in.dims[1]),
                                 static_cast<uint32_t>(in.dims[3])};
  auto tensors = std::make_shared<std::vector<int8_t>>();
  for (const auto& file : camera_image_files(path)) {
    const auto pixels = camera::read_image_as(file, shape);
    // pixel / 255 in the model's input quantisation (q = pixel - 128 for the trainer's models).
    for (uint8_t p : pixels) {
      const float q = std::round(static_cast<float>(p) / 255.0f / in.scale) + static_cast<float>(in.zero_point);
      tensors->push_back(static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f)));
    }
  }
  return tensors;
}

}  // namespace tinyedge::host
