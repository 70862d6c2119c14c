// Sensor logs as CSV: one row per sample, a timestamp column, numeric axis columns and (for
// training) a label column, e.g.
//   timestamp_ms,ax,ay,az,label
//   0,0.02,-0.01,0.98,idle
// Host only (the trainer, `model eval` and the host node's replay). Errors are
// std::runtime_error naming the file, line and column: a missing column, a non-numeric cell, a
// short row, time running backwards.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tinyedge::motion {

struct MotionCsvColumns {
  std::string time = "";          // empty: the first of timestamp_ms, timestamp, time_ms, time, t
  std::string label = "label";    // empty: no label column (replay of unlabelled logs)
  std::vector<std::string> axes;  // empty: every other column
};

struct MotionLog {
  std::string source;               // file name, for messages
  std::vector<std::string> axes;    // axis column names, in order
  std::vector<double> time;         // per row, as written
  std::vector<float> values;        // rows x axes.size()
  std::vector<std::string> labels;  // per row (empty when no label column)
  std::vector<std::size_t> line;    // per row: its 1-based line in the file
  std::size_t rows() const { return time.size(); }
};

MotionLog read_motion_csv(const std::filesystem::path& path, const MotionCsvColumns& columns);

}  // namespace tinyedge::motion
