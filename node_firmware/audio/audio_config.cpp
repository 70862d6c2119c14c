#include "node_firmware/audio/audio_config.h"

#include "node_firmware/audio/fixed_math.h"

namespace tinyedge::audio {

AudioStatus AudioFrontEndConfig::validate() const {
  if (sample_rate_hz < kMinSampleRateHz || sample_rate_hz > kMaxSampleRateHz) {
    return AudioStatus::kSampleRateOutOfRange;
  }
  if ((uint64_t{sample_rate_hz} * window_ms) % 1000 != 0) return AudioStatus::kWindowNotWholeSamples;
  if ((uint64_t{sample_rate_hz} * stride_ms) % 1000 != 0) return AudioStatus::kStrideNotWholeSamples;
  // window_ms <= 65535 and the rate <= 48000 keep these products inside uint32.
  if (window_samples() < kMinWindowSamples) return AudioStatus::kWindowTooShort;
  if (window_samples() > kMaxFftSize) return AudioStatus::kWindowTooLarge;
  if (stride_samples() == 0 || stride_samples() > window_samples()) return AudioStatus::kStrideOutOfRange;
  if (mel_channels == 0 || mel_channels > kMaxMelChannels) return AudioStatus::kMelChannelsOutOfRange;
  if (mfcc_coefficients > mel_channels) return AudioStatus::kMfccOutOfRange;
  if (lower_hz >= upper_hz || uint32_t{upper_hz} * 2 > sample_rate_hz) return AudioStatus::kFrequencyRangeInvalid;
  if (!output_multiplier(output_scale).valid) return AudioStatus::kOutputScaleInvalid;
  return AudioStatus::kOk;
}

}  // namespace tinyedge::audio
