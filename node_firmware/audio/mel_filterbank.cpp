#include "node_firmware/audio/mel_filterbank.h"

#include "node_firmware/audio/fixed_math.h"

namespace tinyedge::audio {

MelBinRange mel_bin_range(const AudioFrontEndConfig& config) {
  const uint64_t n = config.fft_size();
  const uint64_t rate = config.sample_rate_hz;
  // Smallest k with k * rate >= lower * n, and smallest k with k * rate >= upper * n.
  const uint64_t first = (config.lower_hz * n + rate - 1) / rate;
  const uint64_t end = (config.upper_hz * n + rate - 1) / rate;
  return {static_cast<uint32_t>(first), static_cast<uint32_t>(end > first ? end - first : 0)};
}

int32_t mel_log2_q24(uint64_t f_times_n, uint32_t n) {
  return log2_q24(700 * uint64_t{n} + f_times_n) - log2_q24(700 * uint64_t{n});
}

void fill_mel_weights(const AudioFrontEndConfig& config, std::span<uint16_t> weights, std::span<uint8_t> segments) {
  const uint32_t n = config.fft_size();
  const MelBinRange range = mel_bin_range(config);
  const int64_t lo = mel_log2_q24(uint64_t{config.lower_hz} * n, n);
  const int64_t span = mel_log2_q24(uint64_t{config.upper_hz} * n, n) - lo;
  const int64_t points = config.mel_channels + 1;  // segments between the M + 2 points
  for (uint32_t i = 0; i < range.count && i < weights.size() && i < segments.size(); ++i) {
    const uint64_t k = range.first + i;
    // Position in segments: t / span = (mel(f_k) - mel(lower)) / (mel spacing).
    int64_t t = (mel_log2_q24(k * config.sample_rate_hz, n) - lo) * points;
    if (t < 0) t = 0;  // guards rounding at the edges: the bins lie inside [lower, upper)
    int64_t j = t / span;
    if (j > config.mel_channels) j = config.mel_channels;
    int64_t w = ((t - j * span) * 32768 + span / 2) / span;
    if (w > 32768) w = 32768;
    segments[i] = static_cast<uint8_t>(j);
    weights[i] = static_cast<uint16_t>(w);
  }
}

}  // namespace tinyedge::audio
