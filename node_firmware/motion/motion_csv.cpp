#include "node_firmware/motion/motion_csv.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace tinyedge::motion {
namespace {

std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (char c : line) {
    if (c == ',') {
      cells.push_back(cell);
      cell.clear();
    } else if (c != '\r') {
      cell += c;
    }
  }
  cells.push_back(cell);
  for (auto& s : cells) {  // trim spaces and quotes
    while (!s.empty() && (s.front() == ' ' || s.front() == '"')) s.erase(s.begin());
    while (!s.empty() && (s.back() == ' ' || s.back() == '"')) s.pop_back();
  }
  return cells;
}

bool parse_number(const std::string& s, double& v) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return errno == 0 && end == s.c_str() + s.size() && std::isfinite(v);
}

}  // namespace

MotionLog read_motion_csv(const std::filesystem::path& path, const MotionCsvColumns& want) {
  const std::string name = path.string();
  std::ifstream in(path);
  if (!in) throw std::runtime_error(name + ": cannot open");
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(name + ": empty file (expected a header line)");
  const auto header = split_cells(line);
  auto find = [&](const std::string& col) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), col) - header.begin());
  };
  auto columns_list = [&] {
    std::string s;
    for (const auto& h : header) s += (s.empty() ? "" : ",") + h;
    return s;
  };
  std::size_t time_col = header.size();
  if (!want.time.empty()) {
    time_col = find(want.time);
    if (time_col == header.size())
      throw std::runtime_error(name + ":1: no column '" + want.time + "' (the header has " + columns_list() + ")");
  } else {
    for (const char* c : {"timestamp_ms", "timestamp", "time_ms", "time", "t"})
      if (time_col == header.size()) time_col = find(c);
    if (time_col == header.size())
      throw std::runtime_error(name +
                               ":1: no timestamp column (timestamp_ms, timestamp, time_ms, time or t; the "
                               "header has " +
                               columns_list() + ")");
  }
  std::size_t label_col = header.size();
  if (!want.label.empty()) {
    label_col = find(want.label);
    if (label_col == header.size())
      throw std::runtime_error(name + ":1: no column '" + want.label + "' (the header has " + columns_list() + ")");
  }
  MotionLog log;
  log.source = name;
  std::vector<std::size_t> axis_cols;
  if (!want.axes.empty()) {
    for (const auto& a : want.axes) {
      const auto c = find(a);
      if (c == header.size())
        throw std::runtime_error(name + ":1: no column '" + a + "' (the header has " + columns_list() + ")");
      axis_cols.push_back(c);
      log.axes.push_back(a);
    }
  } else {
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (c == time_col || c == label_col) continue;
      axis_cols.push_back(c);
      log.axes.push_back(header[c]);
    }
  }
  if (axis_cols.empty()) throw std::runtime_error(name + ":1: no axis columns besides the time and label");

  std::size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    const auto cells = split_cells(line);
    const std::string at = name + ":" + std::to_string(line_no) + ": ";
    if (cells.size() != header.size())
      throw std::runtime_error(at + std::to_string(cells.size()) + " cells, the header has " +
                               std::to_string(header.size()));
    double t = 0;
    if (!parse_number(cells[time_col], t))
      throw std::runtime_error(at + "column '" + header[time_col] + "': '" + cells[time_col] + "' is not a number");
    if (!log.time.empty() && t < log.time.back())
      throw std::runtime_error(at + "time " + cells[time_col] + " is before the previous row's");
    for (std::size_t k = 0; k < axis_cols.size(); ++k) {
      double v = 0;
      const auto& cell = cells[axis_cols[k]];
      if (!parse_number(cell, v))
        throw std::runtime_error(at + "column '" + log.axes[k] + "': '" + cell + "' is not a number");
      log.values.push_back(static_cast<float>(v));
    }
    if (label_col != header.size()) {
      if (cells[label_col].empty()) throw std::runtime_error(at + "column '" + want.label + "' is empty");
      log.labels.push_back(cells[label_col]);
    }
    log.time.push_back(t);
    log.line.push_back(line_no);
  }
  if (log.rows() == 0) throw std::runtime_error(name + ": no samples after the header");
  return log;
}

}  // namespace tinyedge::motion
