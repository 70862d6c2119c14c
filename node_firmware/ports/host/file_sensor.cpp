#include "node_firmware/ports/host/file_sensor.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace tinyedge::host {

std::shared_ptr<const std::vector<int8_t>> load_samples(const std::string& path, size_t tensor_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read samples file " + path);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (raw.empty()) throw std::runtime_error("samples file " + path + " is empty");
  if (tensor_bytes == 0 || raw.size() % tensor_bytes != 0) {
    throw std::runtime_error("samples file " + path + " has " + std::to_string(raw.size()) +
                             " bytes, not a whole number of " + std::to_string(tensor_bytes) +
                             "-byte input tensors");
  }
  auto samples = std::make_shared<std::vector<int8_t>>(raw.size());
  std::transform(raw.begin(), raw.end(), samples->begin(), [](char c) { return static_cast<int8_t>(c); });
  return samples;
}

FileSensor::FileSensor(std::shared_ptr<const std::vector<int8_t>> samples, size_t tensor_bytes, size_t first_index)
    : samples_(std::move(samples)),
      tensor_bytes_(tensor_bytes),
      count_(tensor_bytes == 0 ? 0 : samples_->size() / tensor_bytes),
      next_(count_ == 0 ? 0 : first_index % count_) {}

bool FileSensor::read(std::span<int8_t> input, uint32_t& sample_id) {
  if (count_ == 0 || input.size() != tensor_bytes_) return false;
  std::copy_n(samples_->begin() + static_cast<std::ptrdiff_t>(next_ * tensor_bytes_), tensor_bytes_, input.begin());
  sample_id = static_cast<uint32_t>(next_ + 1);
  next_ = (next_ + 1) % count_;
  return true;
}

}  // namespace tinyedge::host
