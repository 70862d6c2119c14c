#include "deploy/train/motion_windows.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <stdexcept>

namespace tinyedge::train {

std::size_t MotionWindows::count(bool test_split) const {
  return static_cast<std::size_t>(std::count(test.begin(), test.end(), test_split));
}

MotionWindows cut_windows(const motion::MotionLog& log, int window, int stride) {
  if (window < 4 || window > 4096) throw std::runtime_error("--window must be within 4..4096 samples");
  if (stride < 1 || stride > window) throw std::runtime_error("--stride must be within 1..window samples");
  if (log.labels.size() != log.rows()) throw std::runtime_error(log.source + ": the log has no label column");
  const std::size_t axes = log.axes.size();
  MotionWindows out;
  out.window = window;
  out.axes = static_cast<int>(axes);
  std::vector<double> dt;
  for (std::size_t i = 1; i < log.rows(); ++i)
    if (log.time[i] > log.time[i - 1]) dt.push_back(log.time[i] - log.time[i - 1]);
  if (!dt.empty()) {
    std::nth_element(dt.begin(), dt.begin() + static_cast<std::ptrdiff_t>(dt.size() / 2), dt.end());
    out.sample_spacing = dt[dt.size() / 2];
  }
  struct Recording {
    std::size_t begin, end;  // rows
  };
  std::map<std::string, std::vector<Recording>> by_label;
  for (std::size_t i = 0; i < log.rows();) {
    std::size_t j = i + 1;
    while (j < log.rows() && log.labels[j] == log.labels[i] &&
           (out.sample_spacing == 0 || log.time[j] - log.time[j - 1] <= 5 * out.sample_spacing))
      ++j;
    by_label[log.labels[i]].push_back({i, j});
    i = j;
  }
  if (by_label.size() < 2)
    throw std::runtime_error(log.source + ": a classifier needs at least two labels (found " +
                             std::to_string(by_label.size()) + ")");
  std::map<std::string, std::size_t> recorded;
  for (auto& [name, recs] : by_label) {
    out.labels.push_back(name);
    out.recordings += recs.size();
    recorded[name] = recs.size();
    if (recs.size() == 1) {  // cut the only recording: 80 % train, 20 % test
      const auto r = recs.front();
      const auto cut = r.begin + (r.end - r.begin) * 4 / 5;
      recs = {{r.begin, cut}, {cut, r.end}};
    }
  }
  for (std::size_t label = 0; label < out.labels.size(); ++label) {
    const auto& recs = by_label[out.labels[label]];
    const std::size_t n_test = std::max<std::size_t>(1, (recs.size() + 4) / 5);
    std::size_t windows = 0, rows = 0;
    for (std::size_t k = 0; k < recs.size(); ++k) {
      const bool test = k >= recs.size() - n_test;
      rows += recs[k].end - recs[k].begin;
      for (std::size_t s = recs[k].begin; s + static_cast<std::size_t>(window) <= recs[k].end;
           s += static_cast<std::size_t>(stride)) {
        out.values.insert(out.values.end(), log.values.begin() + static_cast<std::ptrdiff_t>(s * axes),
                          log.values.begin() + static_cast<std::ptrdiff_t>((s + window) * axes));
        out.label.push_back(static_cast<int>(label));
        out.test.push_back(test);
        ++windows;
      }
    }
    if (windows == 0)
      throw std::runtime_error(log.source + ": label '" + out.labels[label] + "' has no complete window (" +
                               std::to_string(rows) + " samples in " + std::to_string(recorded[out.labels[label]]) +
                               " recording(s), --window " + std::to_string(window) + ")");
  }
  return out;
}

std::size_t write_synthetic_gestures(const std::filesystem::path& path, const GestureSynthOptions& o) {
  if (o.recordings_per_gesture < 1 || o.seconds_per_recording <= 0 || o.rate_hz < 1)
    throw std::runtime_error("gesture synthesis: recordings, seconds and rate must be positive");
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << "timestamp_ms,ax,ay,az,label\n";
  const char* gestures[] = {"idle", "wave", "circle", "shake", "tap"};
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> gauss(0.0, 1.0);
  // Recording order: every gesture once per round, shuffled within the round.
  std::vector<int> order;
  for (int r = 0; r < o.recordings_per_gesture; ++r) {
    std::vector<int> round{0, 1, 2, 3, 4};
    for (int i = 4; i > 0; --i) std::swap(round[static_cast<std::size_t>(i)], round[rng() % (i + 1)]);
    order.insert(order.end(), round.begin(), round.end());
  }
  double t_ms = 0;
  std::size_t rows = 0;
  const double dt = 1.0 / o.rate_hz;
  for (int g : order) {
    // The person and device: gravity direction (mostly down the z axis, tilted), amplitude,
    // tempo, sensor noise, a slow drift of the tilt.
    const double tilt = 0.5 * u(rng), heading = 2 * M_PI * u(rng);
    const double gx = std::sin(tilt) * std::cos(heading), gy = std::sin(tilt) * std::sin(heading), gz = std::cos(tilt);
    const double amp = 0.6 + 0.8 * u(rng), noise = 0.02 + 0.05 * u(rng), phase = 2 * M_PI * u(rng);
    const double tempo = 0.75 + 0.5 * u(rng);
    const int n = static_cast<int>(o.seconds_per_recording * o.rate_hz);
    double next_tap = 0.2 + 0.3 * u(rng);
    for (int i = 0; i < n; ++i, t_ms += 1000.0 * dt) {
      const double t = i * dt;
      double x = gx, y = gy, z = gz;
      const double drift = 0.05 * std::sin(2 * M_PI * 0.1 * t + phase);
      x += drift;
      switch (g) {
        case 0:  // idle: the device lies still in a hand
          break;
        case 1:  // wave: side to side along x, ~2 Hz
          x += amp * std::sin(2 * M_PI * 2.0 * tempo * t + phase);
          y += 0.2 * amp * std::sin(2 * M_PI * 4.0 * tempo * t + phase);
          break;
        case 2:  // circle in the x-y plane, ~1 Hz
          x += amp * 0.7 * std::sin(2 * M_PI * 1.0 * tempo * t + phase);
          y += amp * 0.7 * std::cos(2 * M_PI * 1.0 * tempo * t + phase);
          break;
        case 3:  // shake: up and down along z, ~5 Hz, hard
          z += 1.5 * amp * std::sin(2 * M_PI * 5.0 * tempo * t + phase);
          break;
        case 4:  // tap: a short spike on z every ~0.6 s
          if (t >= next_tap) {
            const double since = t - next_tap;
            z += 2.0 * amp * std::exp(-since / 0.03) * (since < 0.15 ? 1 : 0);
            if (since >= 0.15) next_tap = t + (0.4 + 0.4 * u(rng)) / tempo;
          }
          break;
      }
      x += noise * gauss(rng);
      y += noise * gauss(rng);
      z += noise * gauss(rng);
      char line[128];
      std::snprintf(line, sizeof line, "%.0f,%.4f,%.4f,%.4f,%s\n", t_ms, x, y, z, gestures[g]);
      out << line;
      ++rows;
    }
    t_ms += 500;  // half a second between recordings
  }
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
  return rows;
}

}  // namespace tinyedge::train
