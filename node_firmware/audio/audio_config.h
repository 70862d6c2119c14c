// The audio front-end's parameters: one POD the model carries, so the node computes exactly the
// features the model was trained on. validate() says what this build cannot run.
#pragma once
#include <cstddef>
#include <cstdint>

#include "node_firmware/audio/audio_status.h"

namespace tinyedge::audio {

inline constexpr uint32_t kMinSampleRateHz = 4000;
inline constexpr uint32_t kMaxSampleRateHz = 48000;
inline constexpr uint32_t kMinWindowSamples = 16;
// The largest real FFT compiled in (a 64 ms window at 16 kHz). Larger windows are refused.
inline constexpr uint32_t kMaxFftSize = 1024;
inline constexpr uint32_t kMaxMelChannels = 64;

struct AudioFrontEndConfig {
  uint32_t sample_rate_hz = 16000;
  uint16_t window_ms = 30;
  uint16_t stride_ms = 20;
  uint16_t mel_channels = 40;
  uint16_t mfcc_coefficients = 0;  // 0: the features are the log-mel energies themselves
  uint16_t lower_hz = 20;
  uint16_t upper_hz = 4000;
  uint8_t noise_reduction = 0;  // 1: per-channel noise floor subtraction (see front_end.h)
  int8_t output_zero_point = 0;
  // int8 feature = clamp(round(feature / output_scale) + output_zero_point). Only its IEEE-754 bits
  // are read (at configure time, with integer operations): the node needs no floating point.
  float output_scale = 1.0f;

  [[nodiscard]] AudioStatus validate() const;

  constexpr uint32_t window_samples() const { return sample_rate_hz * window_ms / 1000; }
  constexpr uint32_t stride_samples() const { return sample_rate_hz * stride_ms / 1000; }
  // The power of two at or above the window (zero-padded).
  constexpr uint32_t fft_size() const {
    uint32_t n = 1;
    while (n < window_samples()) n <<= 1;
    return n;
  }
  constexpr uint32_t features_per_row() const { return mfcc_coefficients != 0 ? mfcc_coefficients : mel_channels; }
  // Rows a clip of `samples` gives: one per whole stride once a whole window has arrived.
  constexpr size_t rows_for(size_t samples) const {
    const size_t strides = samples / stride_samples();
    const size_t first = (window_samples() + stride_samples() - 1) / stride_samples();
    return strides >= first ? strides - first + 1 : 0;
  }
};

}  // namespace tinyedge::audio
