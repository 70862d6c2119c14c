// `tinyedge-node --motion log.csv`: a sensor log as the node's accelerometer. Every row's axis
// values (every column but the timestamp and an optional "label") go through the node's window
// step (node_firmware/motion: quantised with the model's input scale and zero point into a ring of
// the model's window length, a window every `stride` samples), and the windows are replayed like
// --samples (sample_id = 1-based window index).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tinyedge::host {

// Throws std::runtime_error naming the file, line and column, or the model (input not a window).
std::shared_ptr<const std::vector<int8_t>> load_motion_windows(const std::string& path,
                                                               const std::vector<uint8_t>& model_blob, uint32_t stride);

}  // namespace tinyedge::host
