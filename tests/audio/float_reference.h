// The front-end's definition (node_firmware/audio/front_end.h) in double precision, written from
// the published formulas: the fixed-point pipeline is held to it within stated bounds.
#pragma once
#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

#include "node_firmware/audio/audio_config.h"

namespace tinyedge::audio_test {

inline double mel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }

// Rising-edge weight and segment of each FFT bin k (-1: outside [lower, upper)).
struct RefBank {
  std::vector<int> segment;
  std::vector<double> weight;
};
inline RefBank ref_bank(const audio::AudioFrontEndConfig& c) {
  const int n = static_cast<int>(c.fft_size());
  RefBank b{std::vector<int>(n / 2 + 1, -1), std::vector<double>(n / 2 + 1, 0.0)};
  const double lo = mel(c.lower_hz), hi = mel(c.upper_hz);
  const double spacing = (hi - lo) / (c.mel_channels + 1);
  for (int k = 0; k <= n / 2; ++k) {
    const double f = static_cast<double>(k) * c.sample_rate_hz / n;
    if (f < c.lower_hz || f >= c.upper_hz) continue;
    const double t = (mel(f) - lo) / spacing;
    const int j = static_cast<int>(std::floor(t));
    b.segment[k] = j;
    b.weight[k] = t - j;
  }
  return b;
}

struct RefRow {
  std::vector<std::complex<double>> spectrum;  // X[k], k = 0..N/2, DFT of x * hann
  std::vector<double> power;                   // |X[k]|^2
  std::vector<double> mel;                     // E[m] after noise reduction if on
  std::vector<double> log_mel;                 // ln(E + 1)
  std::vector<double> mfcc;                    // orthonormal DCT-II of log_mel
  std::vector<int> quantised;
};

inline std::vector<double> ref_energies(const audio::AudioFrontEndConfig& c, const std::vector<double>& power) {
  const RefBank bank = ref_bank(c);
  std::vector<double> e(c.mel_channels, 0.0);
  for (size_t k = 0; k < power.size(); ++k) {
    const int j = bank.segment[k];
    if (j < 0) continue;
    if (j < c.mel_channels) e[j] += power[k] * bank.weight[k];
    if (j > 0) e[j - 1] += power[k] * (1.0 - bank.weight[k]);
  }
  return e;
}

inline std::vector<double> ref_dct(const std::vector<double>& f, int coefficients) {
  const int m = static_cast<int>(f.size());
  std::vector<double> out(coefficients, 0.0);
  for (int i = 0; i < coefficients; ++i) {
    const double norm = std::sqrt((i == 0 ? 1.0 : 2.0) / m);
    for (int j = 0; j < m; ++j) out[i] += norm * std::cos(M_PI * i * (2 * j + 1) / (2.0 * m)) * f[j];
  }
  return out;
}

inline int ref_quantise(double v, const audio::AudioFrontEndConfig& c) {
  const double q = std::floor(v / static_cast<double>(c.output_scale) + 0.5) + c.output_zero_point;
  return static_cast<int>(std::fmin(127.0, std::fmax(-128.0, q)));
}

// Streams like the fixed-point front-end (same framing, same noise-floor recursion).
class RefFrontEnd {
 public:
  explicit RefFrontEnd(const audio::AudioFrontEndConfig& c) : c_(c) {}

  std::vector<RefRow> run(const std::vector<int16_t>& samples) {
    std::vector<RefRow> rows;
    const size_t l = c_.window_samples(), s = c_.stride_samples();
    for (size_t end = s; end <= samples.size(); end += s) {
      if (end < l) continue;
      rows.push_back(row(&samples[end - l]));
    }
    return rows;
  }

  RefRow row(const int16_t* x) {
    const int n = static_cast<int>(c_.fft_size()), l = static_cast<int>(c_.window_samples());
    RefRow r;
    for (int k = 0; k <= n / 2; ++k) {
      std::complex<double> acc = 0;
      for (int j = 0; j < l; ++j) {
        const double h = 0.5 - 0.5 * std::cos(2 * M_PI * j / l);
        acc += x[j] * h * std::polar(1.0, -2 * M_PI * static_cast<double>(j) * k / n);
      }
      r.spectrum.push_back(acc);
      r.power.push_back(std::norm(acc));
    }
    r.mel = ref_energies(c_, r.power);
    if (c_.noise_reduction != 0) {
      if (noise_.empty()) noise_ = r.mel;
      for (size_t m = 0; m < r.mel.size(); ++m) {
        noise_[m] += (r.mel[m] - noise_[m]) / 32.0;
        r.mel[m] = std::fmax(r.mel[m] - noise_[m], r.mel[m] / 32.0);
      }
    }
    for (double e : r.mel) r.log_mel.push_back(std::log(e + 1.0));
    r.mfcc = ref_dct(r.log_mel, c_.mfcc_coefficients);
    for (double v : c_.mfcc_coefficients != 0 ? r.mfcc : r.log_mel) r.quantised.push_back(ref_quantise(v, c_));
    return r;
  }

 private:
  audio::AudioFrontEndConfig c_;
  std::vector<double> noise_;
};

}  // namespace tinyedge::audio_test
