// A synthetic "speech" stream made with integers only, so host tests and the Cortex-M4 image hear
// the same samples: each word is a steady tone (the test model's classes are tones), laid over a
// quiet hiss that never stops.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "node_firmware/audio/fixed_math.h"

namespace tinyedge::speech_test {

// The test model's classes and the tone that "says" each keyword.
inline constexpr uint32_t kLowHz = 500;       // label 2, "low"
inline constexpr uint32_t kHighHz = 2000;     // label 3, "high"
inline constexpr uint32_t kUnknownHz = 1000;  // label 1, "_unknown_": speech that is no keyword
inline constexpr uint16_t kLabelLow = 2;
inline constexpr uint16_t kLabelHigh = 3;

struct Word {
  uint32_t hz;
  uint32_t start_ms;
  uint32_t duration_ms;
};

// 16 kHz samples: hiss of +-hiss_amplitude everywhere, plus each word's tone at amplitude 8000.
inline void make_speech_stream(std::span<int16_t> out, std::span<const Word> words, int32_t hiss_amplitude = 64,
                               uint32_t seed = 7) {
  uint32_t noise = seed * 2654435761u + 1;
  for (size_t i = 0; i < out.size(); ++i) {
    noise ^= noise << 13;
    noise ^= noise >> 17;
    noise ^= noise << 5;
    int32_t v = (static_cast<int32_t>(noise >> 24) - 128) * hiss_amplitude / 128;
    const uint32_t ms = static_cast<uint32_t>(i / 16);
    for (const Word& w : words) {
      if (ms < w.start_ms || ms >= w.start_ms + w.duration_ms) continue;
      const uint64_t turns = static_cast<uint64_t>(i) * w.hz % 16000;                // phase in 1/16000 turns
      v += audio::cos_sin_q30(static_cast<uint32_t>(turns), 16000).sin / (1 << 17);  // 8192 peak
    }
    out[i] = static_cast<int16_t>(v > 32767 ? 32767 : (v < -32768 ? -32768 : v));
  }
}

}  // namespace tinyedge::speech_test
