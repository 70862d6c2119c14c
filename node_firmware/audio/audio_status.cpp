#include "node_firmware/audio/audio_status.h"

#include "node_firmware/audio/audio_config.h"

// The messages below name these limits.
static_assert(tinyedge::audio::kMinSampleRateHz == 4000 && tinyedge::audio::kMaxSampleRateHz == 48000);
static_assert(tinyedge::audio::kMinWindowSamples == 16 && tinyedge::audio::kMaxFftSize == 1024);
static_assert(tinyedge::audio::kMaxMelChannels == 64);

namespace tinyedge::audio {

const char* to_string(AudioStatus status) {
  switch (status) {
    case AudioStatus::kOk:
      return "ok";
    case AudioStatus::kSampleRateOutOfRange:
      return "sample rate outside 4000..48000 Hz";
    case AudioStatus::kWindowNotWholeSamples:
      return "window_ms is not a whole number of samples at this sample rate";
    case AudioStatus::kStrideNotWholeSamples:
      return "stride_ms is not a whole number of samples at this sample rate";
    case AudioStatus::kWindowTooShort:
      return "window shorter than 16 samples";
    case AudioStatus::kWindowTooLarge:
      return "window needs an FFT larger than the 1024 points compiled in";
    case AudioStatus::kStrideOutOfRange:
      return "stride is zero or longer than the window";
    case AudioStatus::kMelChannelsOutOfRange:
      return "mel channels outside 1..64";
    case AudioStatus::kMfccOutOfRange:
      return "more MFCC coefficients than mel channels";
    case AudioStatus::kFrequencyRangeInvalid:
      return "frequency range invalid: lower must be below upper, upper at most half the sample rate";
    case AudioStatus::kOutputScaleInvalid:
      return "output scale must be a positive normal float in [2^-20, 2^11)";
    case AudioStatus::kWorkspaceTooSmall:
      return "workspace smaller than the config needs, or not 8-byte aligned";
    case AudioStatus::kNotAudioRecord:
      return "the model's front-end record is not an audio front-end this build can read (magic, version or size)";
    case AudioStatus::kNotConfigured:
      return "front-end not configured";
    case AudioStatus::kWrongStrideLength:
      return "push_stride needs exactly one stride of samples";
    case AudioStatus::kOutputTooSmall:
      return "feature buffer too small for the rows of this clip";
  }
  return "unknown audio status";
}

}  // namespace tinyedge::audio
