// Labelled sensor logs -> training windows, and an honest synthetic gesture log.
//
// Windows: the log's rows are cut into recordings (runs of one label with no time gap longer than
// five times the median sample spacing); each recording gives windows of `window` consecutive
// samples every `stride` samples, never across recordings. The held-out split is by recording, so
// no test window overlaps a training one: per label, the last fifth of its recordings in time
// order (at least one); a label with a single recording has that recording cut at 80 % of its rows.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "node_firmware/motion/motion_csv.h"

namespace tinyedge::train {

struct MotionWindows {
  std::vector<std::string> labels;  // sorted label names, in output order
  int window = 0, axes = 0;
  std::vector<float> values;  // count x window x axes, raw sensor values
  std::vector<int> label;     // per window
  std::vector<bool> test;     // per window
  double sample_spacing = 0;  // median time between rows, in the time column's units
  std::size_t recordings = 0;
  std::size_t count() const { return label.size(); }
  std::size_t count(bool test_split) const;
  std::span<const float> window_values(std::size_t i) const {
    const auto n = static_cast<std::size_t>(window * axes);
    return {values.data() + i * n, n};
  }
};

// Throws std::runtime_error naming the file and the label: fewer than two labels, a label with no
// complete window, window/stride out of range.
MotionWindows cut_windows(const motion::MotionLog& log, int window, int stride);

struct GestureSynthOptions {
  int recordings_per_gesture = 12;
  double seconds_per_recording = 6;
  int rate_hz = 50;
  std::uint64_t seed = 1;
};

// Gestures: idle, wave (side to side), circle, shake (up and down, fast), tap (short spikes),
// each recording by a simulated person (own device orientation, amplitude, tempo, noise).
// Writes timestamp_ms,ax,ay,az,label (accelerometer in g) and returns the rows written.
std::size_t write_synthetic_gestures(const std::filesystem::path& path, const GestureSynthOptions& options);

}  // namespace tinyedge::train
