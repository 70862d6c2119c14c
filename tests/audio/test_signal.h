// A fixed test signal made with integers only, so the host tests and the Cortex-M4 image produce
// the same samples: a tone gliding up from 200 Hz with a slow loudness envelope, plus white noise.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "node_firmware/audio/fixed_math.h"

namespace tinyedge::audio_test {

inline void make_test_signal(std::span<int16_t> out, uint32_t seed = 1) {
  uint32_t noise = seed * 2654435761u + 1;
  uint64_t phase = 0;  // in 2^-24 turns
  for (size_t i = 0; i < out.size(); ++i) {
    // Frequency rises 200 Hz -> ~3.4 kHz over a second at 16 kHz: df = 200 Hz per 1000 samples.
    const uint64_t hz = 200 + i / 5;
    phase += (hz << 24) / 16000;
    const int32_t tone = audio::cos_sin_q30(static_cast<uint32_t>(phase & 0xFFFFFF), 1u << 24).sin >> 16;  // Q14
    const int32_t envelope = 2000 + static_cast<int32_t>((i * 7) % 12000);  // sawtooth loudness
    noise ^= noise << 13;
    noise ^= noise >> 17;
    noise ^= noise << 5;
    const int32_t hiss = static_cast<int32_t>(noise >> 24) - 128;  // -128..127
    out[i] = static_cast<int16_t>(tone * envelope / 16384 + hiss * 4);
  }
}

}  // namespace tinyedge::audio_test
