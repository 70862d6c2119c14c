// Fashion-MNIST as Debian's dataset-fashion-mnist ships it: gzip'd IDX files.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tinyedge::train {

// Grayscale images, row-major, one byte per pixel, with one class label per image.
struct ImageSet {
  int rows = 0;
  int cols = 0;
  std::vector<std::uint8_t> pixels;  // count * rows * cols
  std::vector<std::uint8_t> labels;  // count
  std::size_t count() const { return labels.size(); }
  std::span<const std::uint8_t> image(std::size_t i) const {
    return {pixels.data() + i * rows * cols, static_cast<std::size_t>(rows * cols)};
  }
  // The first `n` images (or all of them if there are fewer).
  ImageSet head(std::size_t n) const;
};

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// `data` is "fashion-mnist" (Debian's package location) or a directory holding the four IDX files.
std::filesystem::path resolve_fashion_mnist(const std::string& data);

// Throws std::runtime_error naming the file and what is wrong with it.
ImageSet load_fashion_mnist(const std::filesystem::path& dir, bool train);

const std::vector<std::string>& fashion_mnist_labels();

}  // namespace tinyedge::train
