// `tinyedge-node --images DIR|file`: image files as the node's camera. Each PNG/JPEG (a folder's
// files in path order, sub-folders included) is converted to the model's input image by the
// camera front-end (node_firmware/camera: resize, gray/RGB) and quantised with the model's input
// scale and zero point; the node then replays them like --samples (sample_id = 1-based index in
// that order), each node starting at its own offset.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tinyedge::host {

// The files, in the order their sample ids count them.
std::vector<std::filesystem::path> camera_image_files(const std::filesystem::path& path);

// Throws std::runtime_error naming the file (unreadable image) or the model (input not an image).
std::shared_ptr<const std::vector<int8_t>> load_camera_images(const std::string& path,
                                                              const std::vector<uint8_t>& model_blob);

}  // namespace tinyedge::host
