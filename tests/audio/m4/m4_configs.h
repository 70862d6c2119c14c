// The front-end configs and signal the Cortex-M4 image computes and the host test repeats.
#pragma once
#include <cstddef>

#include "node_firmware/audio/audio_config.h"

namespace tinyedge::audio_test {

struct M4Case {
  const char* name;
  audio::AudioFrontEndConfig config;
};

inline constexpr size_t kM4Samples = 16000;  // one second at 16 kHz

inline M4Case m4_case(int i) {
  audio::AudioFrontEndConfig c;
  if (i == 0) {  // the MLPerf Tiny KWS input: 49 x 10 MFCC of 40 mel channels, 30 ms / 20 ms
    c.mfcc_coefficients = 10;
    c.output_scale = 0.5f;
    c.output_zero_point = 0;
    return {"kws_mfcc", c};
  }
  // Log-mel with noise reduction, for a model that takes the spectrogram itself.
  c.noise_reduction = 1;
  c.output_scale = 0.125f;
  c.output_zero_point = -128;
  return {"log_mel_nr", c};
}
inline constexpr int kM4Cases = 2;

}  // namespace tinyedge::audio_test
