// Instruction-count probe for the audio front-end on the emulated Cortex-M4: configures the KWS
// MFCC front-end and runs CLIPS seconds of the test signal through it, so that
// count(CLIPS=1) - count(CLIPS=0) is the instructions per second of audio.
#include <cstdint>

#include "node_firmware/audio/front_end.h"
#include "tests/audio/m4/m4_configs.h"
#include "tests/audio/test_signal.h"

alignas(8) static uint8_t workspace[8192];
static int16_t signal[tinyedge::audio_test::kM4Samples];
static int8_t features[49 * 64];

int main() {
  using namespace tinyedge;
  const audio_test::M4Case test = audio_test::m4_case(CASE);
  audio_test::make_test_signal(signal);
  audio::AudioFrontEnd fe;
  if (fe.configure(test.config, workspace) != audio::AudioStatus::kOk) return 1;
  size_t rows = 0;
  for (int i = 0; i < CLIPS; ++i) {
    if (audio::compute_clip(fe, signal, features, rows) != audio::AudioStatus::kOk) return 2;
  }
  return features[0];
}
