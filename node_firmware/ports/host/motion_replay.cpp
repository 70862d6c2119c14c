#include "node_firmware/ports/host/motion_replay.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "node_firmware/motion/motion_csv.h"
#include "node_firmware/motion/motion_window.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::host {

std::shared_ptr<const std::vector<int8_t>> load_motion_windows(const std::string& path,
                                                               const std::vector<uint8_t>& model_blob,
                                                               uint32_t stride) {
  runtime::Model model;
  if (runtime::Model::load(model_blob, model) != runtime::Status::kOk)
    throw std::runtime_error("--motion: the model does not load");
  const auto in = model.input_info();
  if (in.rank != 4 || in.dims[0] != 1 || in.dims[2] != 1 || in.scale <= 0)
    throw std::runtime_error("--motion: the model's input is not a sensor window ([1, T, 1, axes])");
  const auto window = static_cast<uint32_t>(in.dims[1]), axes = static_cast<uint32_t>(in.dims[3]);
  // A replayed log may carry its labels (ignored here); it need not.
  bool has_label = false;
  {
    std::ifstream f(path);
    std::string header;
    std::getline(f, header);
    std::string cell;
    for (std::size_t i = 0; i <= header.size(); ++i) {
      if (i == header.size() || header[i] == ',') {
        has_label |= cell == "label";
        cell.clear();
      } else if (header[i] != ' ' && header[i] != '\r' && header[i] != '"') {
        cell += header[i];
      }
    }
  }
  motion::MotionCsvColumns columns;
  if (!has_label) columns.label.clear();
  const auto log = motion::read_motion_csv(path, columns);
  if (log.axes.size() != axes)
    throw std::runtime_error(path + ": " + std::to_string(log.axes.size()) + " axis columns, the model takes " +
                             std::to_string(axes));
  std::vector<int8_t> ring(static_cast<std::size_t>(window) * axes), sample(axes), tensor(ring.size());
  motion::MotionWindow steps;
  if (const auto s = steps.init(ring, window, axes, stride == 0 ? std::max(1u, window / 4) : std::min(stride, window));
      s != motion::MotionStatus::kOk)
    throw std::runtime_error(std::string("--motion: ") + motion::to_string(s));
  auto windows = std::make_shared<std::vector<int8_t>>();
  for (std::size_t r = 0; r < log.rows(); ++r) {
    motion::quantize_sample(std::span<const float>(log.values).subspan(r * axes, axes), in.scale, in.zero_point,
                            sample);
    if (steps.push(sample)) {
      steps.copy_window(tensor);
      windows->insert(windows->end(), tensor.begin(), tensor.end());
    }
  }
  if (windows->empty())
    throw std::runtime_error(path + ": " + std::to_string(log.rows()) + " samples, fewer than one window of " +
                             std::to_string(window));
  return windows;
}

}  // namespace tinyedge::host
