// Replays raw int8 input tensors from a file (`--samples`): the file is whole tensors back to
// back; sample_id is the 1-based index of the tensor in the file, so a gateway can join results
// to the data set's labels. Each node starts at its own offset and wraps around.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "node_firmware/app/sensor.h"

namespace tinyedge::host {

// The file's bytes, loaded once and shared by every node. Throws std::runtime_error naming the
// file when it cannot be read, is empty, or is not a whole number of `tensor_bytes` tensors.
std::shared_ptr<const std::vector<int8_t>> load_samples(const std::string& path, size_t tensor_bytes);

class FileSensor final : public app::Sensor {
 public:
  FileSensor(std::shared_ptr<const std::vector<int8_t>> samples, size_t tensor_bytes, size_t first_index);
  bool read(std::span<int8_t> input, uint32_t& sample_id) override;

 private:
  std::shared_ptr<const std::vector<int8_t>> samples_;
  size_t tensor_bytes_;
  size_t count_;
  size_t next_;
};

}  // namespace tinyedge::host
