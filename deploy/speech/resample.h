// Sample-rate conversion for synthesised speech (espeak-ng speaks at 22050 Hz; the front-end
// listens at 16 kHz): band-limited interpolation with a Hann-windowed sinc.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace tinyedge::speech {

// Resamples `in` (at `from_hz`) to `to_hz`, low-passed below the lower Nyquist frequency.
std::vector<int16_t> resample(std::span<const int16_t> in, uint32_t from_hz, uint32_t to_hz);

}  // namespace tinyedge::speech
