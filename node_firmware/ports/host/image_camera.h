// `tinyedge-node --images DIR|file`: image files as the node's camera. Each PNG/JPEG (a folder's
// files in path order, sub-folders included) is converted to the model's input image by the
// camera front-end (node_firmware/camera: resize, gray/RGB) and quantised with the model's input
// scale and zero point; the node then replays them like --samples (sample_id = 1-based index in
// that order), each node starting at its own offset.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "node_firmware/camera/image_convert.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::host {

// The model's input as an image ([1, H, W, 1 or 3] with a positive scale); nullopt otherwise.
std::optional<camera::ImageShape> model_image_shape(const runtime::Model& model);

// A frame's pixels (each pixel / 255) in the model's input quantisation: what the camera gives
// the model, for replayed frames and enrollment frames alike. `out` has pixels.size() entries.
void quantize_pixels(std::span<const uint8_t> pixels, float scale, int32_t zero_point, std::span<int8_t> out);

// The files, in the order their sample ids count them.
std::vector<std::filesystem::path> camera_image_files(const std::filesystem::path& path);

// Throws std::runtime_error naming the file (unreadable image) or the model (input not an image).
std::shared_ptr<const std::vector<int8_t>> load_camera_images(const std::string& path,
                                                              const std::vector<uint8_t>& model_blob);

}  // namespace tinyedge::host
