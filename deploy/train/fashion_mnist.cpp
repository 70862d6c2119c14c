#include "deploy/train/fashion_mnist.h"

#include <zlib.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace tinyedge::train {
namespace {

std::vector<std::uint8_t> read_gzip(const std::filesystem::path& path) {
  std::unique_ptr<gzFile_s, decltype(&gzclose)> file(gzopen(path.c_str(), "rb"), &gzclose);
  if (!file) throw std::runtime_error("cannot open " + path.string());
  std::vector<std::uint8_t> out;
  std::uint8_t buf[1 << 16];
  for (;;) {
    const int n = gzread(file.get(), buf, sizeof buf);
    if (n < 0) throw std::runtime_error("corrupt gzip data in " + path.string());
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

std::uint32_t be32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}

// IDX: magic 0x00000803 (u8, 3 dims) or 0x00000801 (u8, 1 dim), big-endian sizes, then data.
std::vector<std::uint8_t> read_idx(const std::filesystem::path& path, int dims, std::vector<std::uint32_t>& shape) {
  auto bytes = read_gzip(path);
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(dims);
  if (bytes.size() < header) throw std::runtime_error(path.string() + ": truncated IDX header");
  if (be32(bytes, 0) != 0x800u + static_cast<std::uint32_t>(dims))
    throw std::runtime_error(path.string() + ": not an unsigned-byte IDX file with " + std::to_string(dims) + " dims");
  std::size_t total = 1;
  shape.clear();
  for (int d = 0; d < dims; ++d) {
    shape.push_back(be32(bytes, 4 + 4 * d));
    total *= shape.back();
  }
  if (bytes.size() != header + total)
    throw std::runtime_error(path.string() + ": expected " + std::to_string(total) + " data bytes, found " +
                             std::to_string(bytes.size() - header));
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header));
  return bytes;
}

}  // namespace

ImageSet ImageSet::head(std::size_t n) const {
  ImageSet out;
  out.rows = rows;
  out.cols = cols;
  n = std::min(n, count());
  out.labels.assign(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(n));
  out.pixels.assign(pixels.begin(), pixels.begin() + static_cast<std::ptrdiff_t>(n * rows * cols));
  return out;
}

std::filesystem::path resolve_fashion_mnist(const std::string& data) {
  if (data == "fashion-mnist") return kFashionMnistDir;
  return data;
}

ImageSet load_fashion_mnist(const std::filesystem::path& dir, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  const auto images_path = dir / (prefix + "-images-idx3-ubyte.gz");
  const auto labels_path = dir / (prefix + "-labels-idx1-ubyte.gz");
  if (!std::filesystem::exists(images_path))
    throw std::runtime_error("Fashion-MNIST not found: " + images_path.string() +
                             " is missing (install Debian's dataset-fashion-mnist, or pass --data DIR)");
  std::vector<std::uint32_t> image_shape, label_shape;
  ImageSet set;
  set.pixels = read_idx(images_path, 3, image_shape);
  set.labels = read_idx(labels_path, 1, label_shape);
  if (image_shape[0] != label_shape[0])
    throw std::runtime_error(dir.string() + ": " + std::to_string(image_shape[0]) + " images but " +
                             std::to_string(label_shape[0]) + " labels");
  set.rows = static_cast<int>(image_shape[1]);
  set.cols = static_cast<int>(image_shape[2]);
  for (auto l : set.labels)
    if (l >= 10) throw std::runtime_error(labels_path.string() + ": label " + std::to_string(l) + " out of range 0..9");
  return set;
}

const std::vector<std::string>& fashion_mnist_labels() {
  static const std::vector<std::string> labels{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                               "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return labels;
}

}  // namespace tinyedge::train
