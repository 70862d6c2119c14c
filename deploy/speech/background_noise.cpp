#include "deploy/speech/background_noise.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace tinyedge::speech {

uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t hash_string(const std::string& s, uint64_t seed) {
  uint64_t h = mix64(seed);
  for (const char c : s) h = mix64(h ^ static_cast<uint8_t>(c));
  return h;
}

const char* noise_name(NoiseKind kind) {
  switch (kind) {
    case NoiseKind::kWhite:
      return "white";
    case NoiseKind::kPink:
      return "pink";
    case NoiseKind::kBrown:
      return "brown";
    case NoiseKind::kHum:
      return "hum";
  }
  return "noise";
}

std::vector<double> make_noise(NoiseKind kind, size_t n, uint64_t seed) {
  std::vector<double> x(n, 0.0);
  uint64_t state = seed;
  auto gaussian = [&state] {  // Box-Muller from two uniforms
    state = mix64(state);
    const double u1 = unit(state) + 0x1.0p-54;
    state = mix64(state);
    const double u2 = unit(state);
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  };
  switch (kind) {
    case NoiseKind::kWhite:
      for (auto& v : x) v = gaussian();
      break;
    case NoiseKind::kPink: {
      // Paul Kellet's economical 1/f filter on white noise (three poles).
      double b0 = 0, b1 = 0, b2 = 0;
      for (auto& v : x) {
        const double w = gaussian();
        b0 = 0.99765 * b0 + w * 0.0990460;
        b1 = 0.96300 * b1 + w * 0.2965164;
        b2 = 0.57000 * b2 + w * 1.0526913;
        v = b0 + b1 + b2 + w * 0.1848;
      }
      break;
    }
    case NoiseKind::kBrown: {
      double y = 0;
      for (auto& v : x) {
        y = 0.995 * y + gaussian();  // leaky integrator: 1/f^2 above ~13 Hz at 16 kHz
        v = y;
      }
      break;
    }
    case NoiseKind::kHum: {
      state = mix64(state);
      const double mains = unit(state) < 0.5 ? 50.0 : 60.0;
      for (size_t i = 0; i < n; ++i) {
        double v = 0;
        for (int h = 1; h <= 5; ++h) v += std::sin(2 * M_PI * mains * h * i / 16000.0 + h) / h;
        x[i] = v + 0.05 * gaussian();
      }
      break;
    }
  }
  double power = 0;
  for (double v : x) power += v * v;
  const double rms = std::sqrt(power / std::max<size_t>(n, 1));
  if (rms > 0) {
    for (auto& v : x) v /= rms;
  }
  return x;
}

}  // namespace tinyedge::speech
