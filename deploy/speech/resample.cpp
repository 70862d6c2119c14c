#include "deploy/speech/resample.h"

#include <algorithm>
#include <cmath>

namespace tinyedge::speech {

std::vector<int16_t> resample(std::span<const int16_t> in, uint32_t from_hz, uint32_t to_hz) {
  if (in.empty() || from_hz == 0 || to_hz == 0) return {};
  const double ratio = static_cast<double>(to_hz) / from_hz;
  // Cut-off at 90 % of the lower Nyquist frequency, as a fraction of the input rate.
  const double cutoff = 0.45 * std::min(1.0, ratio);
  constexpr int kHalfTaps = 32;  // input samples each side of the output instant (at ratio 1)
  const int half = static_cast<int>(std::ceil(kHalfTaps / std::min(1.0, ratio)));
  const size_t out_n = static_cast<size_t>(std::floor(in.size() * ratio));
  std::vector<int16_t> out(out_n);
  for (size_t i = 0; i < out_n; ++i) {
    const double t = i / ratio;  // position in input samples
    const long centre = static_cast<long>(std::floor(t));
    double acc = 0, norm = 0;
    for (long j = centre - half + 1; j <= centre + half; ++j) {
      const double x = t - j;
      const double w = 0.5 + 0.5 * std::cos(M_PI * x / half);
      const double arg = 2 * cutoff * x;
      const double sinc = std::fabs(arg) < 1e-12 ? 1.0 : std::sin(M_PI * arg) / (M_PI * arg);
      const double k = 2 * cutoff * sinc * w;
      norm += k;
      if (j >= 0 && j < static_cast<long>(in.size())) acc += k * in[j];
    }
    const double v = norm > 0 ? acc / norm : 0;
    out[i] = static_cast<int16_t>(std::lround(std::clamp(v, -32768.0, 32767.0)));
  }
  return out;
}

}  // namespace tinyedge::speech
