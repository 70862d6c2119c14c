#include "node_firmware/ports/host/image_examples.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "node_firmware/camera/image_file.h"
#include "node_firmware/ports/host/image_camera.h"

namespace tinyedge::host {

namespace fs = std::filesystem;

enroll::EnrollStatus ImageExamples::capture(std::string_view label, uint32_t index, std::span<int8_t> out) {
  if (index == 0) {
    frames_.clear();
    if (!begin(label)) return enroll::EnrollStatus::kBadExamples;
    folder_ = dir() / std::string(label);
    std::error_code ec;
    if (!fs::is_directory(folder_, ec)) {
      refuse("no folder of enrollment frames " + folder_.string());
      return enroll::EnrollStatus::kBadExamples;
    }
    for (const auto& e : fs::directory_iterator(folder_, ec))
      if (e.is_regular_file() && camera::is_image_file_name(e.path())) frames_.push_back(e.path());
    std::sort(frames_.begin(), frames_.end());
  }
  if (index >= frames_.size()) {
    refuse(folder_.string() + " holds " + std::to_string(frames_.size()) +
           " frames (.png/.jpg), fewer than the enrollment asks for");
    return enroll::EnrollStatus::kTooFewExamples;
  }
  if (!engine_.ready()) return enroll::EnrollStatus::kBadExamples;
  const auto shape = model_image_shape(engine_.model());
  if (!shape || out.size() != shape->bytes()) {
    refuse("the model's input is not an image: frames cannot be its examples");
    return enroll::EnrollStatus::kBadExamples;
  }
  const fs::path& file = frames_[index];
  camera::DecodedImage frame;
  try {
    frame = camera::read_image_file(file);
  } catch (const std::exception& e) {
    refuse(e.what());  // names the file
    return enroll::EnrollStatus::kBadExamples;
  }
  if (frame.shape.width != shape->width || frame.shape.height != shape->height) {
    refuse(file.string() + ": frame of " + std::to_string(frame.shape.width) + "x" +
           std::to_string(frame.shape.height) + " pixels, the model takes " + std::to_string(shape->width) + "x" +
           std::to_string(shape->height));
    return enroll::EnrollStatus::kBadExamples;
  }
  std::vector<uint8_t> pixels(shape->bytes());
  if (camera::convert_image(frame.pixels, frame.shape, pixels, *shape) != camera::ImageStatus::kOk) {
    refuse(file.string() + ": cannot convert the frame to the model's channels");
    return enroll::EnrollStatus::kBadExamples;
  }
  const runtime::TensorInfo in = engine_.model().input_info();
  quantize_pixels(pixels, in.scale, in.zero_point, out);
  return enroll::EnrollStatus::kOk;
}

}  // namespace tinyedge::host
