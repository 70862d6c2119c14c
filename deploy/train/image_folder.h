// A folder of labelled images (DIR/<label>/*.png|*.jpg|*.jpeg), decoded and converted to a model's
// input image by the node's own camera conversion (node_firmware/camera), with its train/test
// split. The split: DIR/testing_list.txt if present ("<label>/<file>" lines, as `tinyedge data
// image-folder` writes for Fashion-MNIST's own test set), else by the FNV-1a hash of the file name
// (the part before "_nohash_" if any: one subject's photos stay on one side), mod 100 below the
// test percentage. Every file is read before anything is trained or written: a file that is not a
// PNG or JPEG, is truncated or corrupt, or a label folder without images stops it, named.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "node_firmware/camera/image_convert.h"

namespace tinyedge::train {

struct ImageFolderSet {
  std::vector<std::string> labels;  // class names, in output order (sorted folder names)
  camera::ImageShape shape;         // every image converted to this (the model's input)
  std::vector<std::filesystem::path> files;
  std::vector<int> label;            // per file, index into labels
  std::vector<bool> test;            // per file
  std::vector<std::uint8_t> pixels;  // files.size() * shape.bytes(), HWC
  std::string split;                 // how the split was made, for the user
  std::size_t count(bool test_split) const;
  std::span<const std::uint8_t> image(std::size_t i) const {
    return {pixels.data() + i * shape.bytes(), shape.bytes()};
  }
};

// True when `dir` is a folder with at least one sub-folder holding a .png/.jpg/.jpeg file.
bool is_image_folder(const std::filesystem::path& dir);

// All label folders become classes (at least two).
ImageFolderSet read_image_folder(const std::filesystem::path& dir, camera::ImageShape shape, int test_percent,
                                 int threads);

// The same folder labelled with a model's classes: every label folder must be one of them.
ImageFolderSet read_image_folder_for_labels(const std::filesystem::path& dir, camera::ImageShape shape,
                                            const std::vector<std::string>& labels, int test_percent, int threads);

}  // namespace tinyedge::train
