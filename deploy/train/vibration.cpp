#include "deploy/train/vibration.h"

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace tinyedge::train {
namespace {

constexpr double kTwoPi = 2.0 * M_PI;

struct Machine {
  double shaft_hz, amplitude, noise;
  double harmonic[5];
  int gear_teeth;
  double gear_amplitude;
  bool faulty;
  double fault_ratio, severity, resonance_hz;
};

Machine make_machine(std::mt19937_64& rng, bool faulty) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Machine m{};
  m.shaft_hz = 15.0 + 20.0 * u(rng);
  m.amplitude = 0.5 + u(rng);
  m.noise = 0.01 + 0.02 * u(rng);
  const double base[5] = {1.0, 0.5, 0.3, 0.15, 0.1};
  for (int k = 0; k < 5; ++k) m.harmonic[k] = base[k] * (0.5 + u(rng));
  m.gear_teeth = 12 + static_cast<int>(u(rng) * 9);
  m.gear_amplitude = 0.1 + 0.2 * u(rng);
  m.faulty = faulty;
  m.fault_ratio = 3.0 + 2.2 * u(rng);  // BPFO / shaft speed for common bearing geometries
  m.severity = 0.3 + 0.7 * u(rng);
  m.resonance_hz = 500.0 + 300.0 * u(rng);
  return m;
}

void synthesize_window(const Machine& m, std::mt19937_64& rng, float* out) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> gauss(0.0, 1.0);
  const double fr = m.shaft_hz * (1.0 + 0.01 * gauss(rng));  // speed wanders a little between windows
  double phase[5];
  for (double& p : phase) p = kTwoPi * u(rng);
  const double gear_phase = kTwoPi * u(rng);
  const double noise = m.noise * (m.faulty ? 1.0 + m.severity : 1.0);
  const double bpfo = fr * m.fault_ratio;
  const double first_impact = u(rng) / bpfo;
  for (int n = 0; n < kVibrationWindow; ++n) {
    const double t = n / kVibrationSampleRate;
    double v = 0;
    for (int k = 0; k < 5; ++k) v += m.amplitude * m.harmonic[k] * std::sin(kTwoPi * (k + 1) * fr * t + phase[k]);
    const double mesh = m.gear_teeth * fr;
    v += m.gear_amplitude * std::sin(kTwoPi * mesh * t + gear_phase) * (1.0 + 0.3 * std::sin(kTwoPi * fr * t));
    if (m.faulty) {
      // Impacts each time a rolling element passes the defect, each ringing the structure's resonance.
      for (double ti = first_impact - 1.0 / bpfo; ti <= t; ti += 1.0 / bpfo) {
        const double dt = t - ti;
        if (dt >= 0 && dt < 0.015) v += m.severity * 0.8 * std::exp(-dt / 0.003) * std::sin(kTwoPi * m.resonance_hz * dt);
      }
      for (int k = 1; k <= 3; ++k) v += 0.2 * m.severity / k * std::sin(kTwoPi * k * bpfo * t + phase[k - 1]);
    }
    v += noise * gauss(rng);
    out[n] = static_cast<float>(v);
  }
}

}  // namespace

VibrationSet synthesize_vibration(const VibrationOptions& o) {
  if (o.machines <= 0 || o.windows_per_machine <= 0) throw std::runtime_error("machines and windows must be positive");
  if (!(o.faulty_fraction >= 0.0 && o.faulty_fraction <= 1.0))
    throw std::runtime_error("faulty fraction must be within [0, 1]");
  std::mt19937_64 rng(o.seed);
  const int faulty = static_cast<int>(std::lround(o.faulty_fraction * o.machines));
  // Which machines are faulty: a seeded pick, so faulty ones are spread over the id range.
  std::vector<bool> is_faulty(static_cast<std::size_t>(o.machines), false);
  for (int i = 0; i < faulty; ++i) is_faulty[static_cast<std::size_t>(i)] = true;
  for (std::size_t i = is_faulty.size() - 1; i > 0; --i) {
    const std::size_t j = rng() % (i + 1);
    const bool tmp = is_faulty[i];
    is_faulty[i] = is_faulty[j];
    is_faulty[j] = tmp;
  }
  VibrationSet set;
  const std::size_t rows = static_cast<std::size_t>(o.machines) * o.windows_per_machine;
  set.samples.resize(rows * kVibrationWindow);
  std::size_t row = 0;
  for (int id = 0; id < o.machines; ++id) {
    const Machine m = make_machine(rng, is_faulty[static_cast<std::size_t>(id)]);
    for (int w = 0; w < o.windows_per_machine; ++w, ++row) {
      set.machine.push_back(id);
      set.label.push_back(m.faulty ? 1 : 0);
      synthesize_window(m, rng, &set.samples[row * kVibrationWindow]);
    }
  }
  return set;
}

void write_vibration_csv(const VibrationSet& set, const std::filesystem::path& path) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << "machine,label";
  for (int i = 0; i < kVibrationWindow; ++i) out << ",s" << i;
  out << '\n';
  char buf[32];
  for (std::size_t r = 0; r < set.count(); ++r) {
    out << set.machine[r] << ',' << int{set.label[r]};
    for (float v : set.window(r)) {
      std::snprintf(buf, sizeof buf, ",%.5f", static_cast<double>(v));
      out << buf;
    }
    out << '\n';
  }
  if (!out.flush()) throw std::runtime_error("write failed: " + path.string());
}

VibrationSet read_vibration_csv(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::string line;
  if (!std::getline(in, line) || line.rfind("machine,label,s0", 0) != 0)
    throw std::runtime_error(path.string() + ": line 1: expected the header \"machine,label,s0,...\"");
  VibrationSet set;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    const std::string where = path.string() + ": line " + std::to_string(line_no) + ": ";
    const char* p = line.c_str();
    char* end = nullptr;
    const long machine = std::strtol(p, &end, 10);
    if (end == p || *end != ',') throw std::runtime_error(where + "bad machine id");
    p = end + 1;
    const long label = std::strtol(p, &end, 10);
    if (end == p || *end != ',' || (label != 0 && label != 1)) throw std::runtime_error(where + "label must be 0 or 1");
    p = end + 1;
    for (int i = 0; i < kVibrationWindow; ++i) {
      const float v = std::strtof(p, &end);
      if (end == p || !std::isfinite(v)) throw std::runtime_error(where + "sample s" + std::to_string(i) + " is not a number");
      if (i + 1 < kVibrationWindow && *end != ',')
        throw std::runtime_error(where + "expected " + std::to_string(kVibrationWindow) + " samples");
      set.samples.push_back(v);
      p = end + 1;
    }
    if (*end != '\0' && *end != '\r') throw std::runtime_error(where + "more than " + std::to_string(kVibrationWindow) + " samples");
    set.machine.push_back(static_cast<int>(machine));
    set.label.push_back(static_cast<std::uint8_t>(label));
  }
  if (set.count() == 0) throw std::runtime_error(path.string() + ": no data rows");
  return set;
}

std::vector<float> vibration_features(std::span<const float> window) {
  if (window.size() != static_cast<std::size_t>(kVibrationWindow))
    throw std::runtime_error("a vibration window has " + std::to_string(kVibrationWindow) + " samples");
  static const auto tables = [] {
    struct T {
      std::vector<double> hann, cos, sin;
      double gain = 0;
    } t;
    const int n = kVibrationWindow;
    for (int i = 0; i < n; ++i) {
      t.hann.push_back(0.5 - 0.5 * std::cos(kTwoPi * i / n));
      t.gain += t.hann.back();
      t.cos.push_back(std::cos(kTwoPi * i / n));
      t.sin.push_back(std::sin(kTwoPi * i / n));
    }
    return t;
  }();
  std::vector<float> f(kVibrationFeatures);
  for (int k = 1; k <= kVibrationFeatures; ++k) {
    double re = 0, im = 0;
    for (int i = 0; i < kVibrationWindow; ++i) {
      const double x = window[i] * tables.hann[i];
      const int j = (k * i) % kVibrationWindow;
      re += x * tables.cos[j];
      im -= x * tables.sin[j];
    }
    const double mag = std::sqrt(re * re + im * im) * 2.0 / tables.gain;
    f[k - 1] = static_cast<float>((std::log10(mag + 1e-2) + 2.0) / 2.0);
  }
  return f;
}

}  // namespace tinyedge::train
