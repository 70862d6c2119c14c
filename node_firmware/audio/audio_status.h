// Every audio front-end call returns an AudioStatus: a config the node cannot run is refused with
// the reason, never run approximately; bad buffers are refused, never overrun.
#pragma once
#include <cstdint>

namespace tinyedge::audio {

enum class AudioStatus : uint8_t {
  kOk,
  kSampleRateOutOfRange,   // sample rate outside [kMinSampleRateHz, kMaxSampleRateHz]
  kWindowNotWholeSamples,  // window_ms * rate / 1000 is not a whole number of samples
  kStrideNotWholeSamples,  // stride_ms * rate / 1000 is not a whole number of samples
  kWindowTooShort,         // window shorter than kMinWindowSamples
  kWindowTooLarge,         // the window needs an FFT larger than kMaxFftSize compiled in
  kStrideOutOfRange,       // stride is zero or longer than the window
  kMelChannelsOutOfRange,  // mel channels outside [1, kMaxMelChannels]
  kMfccOutOfRange,         // more MFCC coefficients than mel channels
  kFrequencyRangeInvalid,  // lower >= upper, or upper above the Nyquist frequency
  kOutputScaleInvalid,     // output scale not a positive normal float in [2^-20, 2^11)
  kWorkspaceTooSmall,      // caller's workspace smaller than workspace_bytes(config) or misaligned
  kNotConfigured,          // push before a successful configure()
  kWrongStrideLength,      // push_stride given other than exactly one stride of samples
  kOutputTooSmall,         // feature output buffer smaller than rows * features
  kNotAudioRecord,         // a model's front-end record is not an audio front-end this build reads
};

// A sentence naming the problem, for logs and CLI errors.
const char* to_string(AudioStatus status);

}  // namespace tinyedge::audio
