// Synthetic machine vibration with ground truth, so the anomaly demo and tests need no outside data:
// healthy rotating machines (shaft harmonics, gear mesh with sidebands, sensor noise) and a fraction
// of machines with an outer-race bearing fault (impacts at the fault frequency ringing a structural
// resonance, fault-frequency harmonics, more noise). Every window of a faulty machine is labelled 1.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tinyedge::train {

inline constexpr int kVibrationWindow = 256;         // samples per row
inline constexpr double kVibrationSampleRate = 2048;  // Hz
inline constexpr int kVibrationFeatures = 128;       // log-magnitude DFT bins 1..128 (8 Hz each)

struct VibrationOptions {
  int machines = 40;
  int windows_per_machine = 50;
  double faulty_fraction = 0.2;
  std::uint64_t seed = 1;
};

struct VibrationSet {
  std::vector<int> machine;         // per row
  std::vector<std::uint8_t> label;  // per row: 0 normal, 1 faulty
  std::vector<float> samples;       // rows x kVibrationWindow, acceleration in g
  std::size_t count() const { return label.size(); }
  std::span<const float> window(std::size_t i) const {
    return {samples.data() + i * kVibrationWindow, static_cast<std::size_t>(kVibrationWindow)};
  }
};

VibrationSet synthesize_vibration(const VibrationOptions& options);

// CSV: header "machine,label,s0,...,s255", one window per row. read_ throws std::runtime_error
// naming the line and column of the first problem.
void write_vibration_csv(const VibrationSet& set, const std::filesystem::path& path);
VibrationSet read_vibration_csv(const std::filesystem::path& path);

// The model's input: Hann-windowed DFT magnitude of one window, log-compressed and scaled to about
// [0, 1]: f = (log10(|X| * 2 / sum(hann) + 0.01) + 2) / 2. The 0.01 floor keeps the sensor noise
// floor (a few thousandths of g) from dominating the reconstruction error with its log-variance. A node computes the same on its sensor.
std::vector<float> vibration_features(std::span<const float> window);
inline constexpr const char* kVibrationFeatureDescription =
    "vibration: 128 log-magnitude DFT bins (1..128 x 8 Hz) of a 256-sample Hann window at 2048 Hz, "
    "(log10(|X|*2/sum(w)+0.01)+2)/2";

}  // namespace tinyedge::train
