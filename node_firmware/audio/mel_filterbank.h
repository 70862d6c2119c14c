// Triangular mel filterbank in fixed point. mel(f) = 2595 log10(1 + f/700); the M channels' edges
// and centres are M + 2 points equally spaced in mel from lower_hz to upper_hz, and each triangle
// is linear in mel (as HTK and Kaldi define it), peaking at 1. A bin between points j and j+1
// lies on the rising edge of channel j (weight w) and the falling edge of channel j-1 (weight
// 1 - w), so one Q15 weight and one segment index per bin describe the whole bank.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/audio/audio_config.h"

namespace tinyedge::audio {

// FFT bins k with lower_hz <= k * rate / n < upper_hz: [first, first + count).
struct MelBinRange {
  uint32_t first = 0;
  uint32_t count = 0;
};
MelBinRange mel_bin_range(const AudioFrontEndConfig& config);

// Log2 of (1 + f/700) in Q24 with f = f_times_n / n (mel / 2595 * log2(10), without the constant,
// which cancels in the weights).
int32_t mel_log2_q24(uint64_t f_times_n, uint32_t n);

// Weights (Q15, 0..32768) and segment indices (0..M) of the bins in mel_bin_range(config).
void fill_mel_weights(const AudioFrontEndConfig& config, std::span<uint16_t> weights, std::span<uint8_t> segments);

// Multiplies a power by a Q15 weight without overflowing 64 bits: floor(p * w / 2^15).
inline uint64_t mul_q15(uint64_t p, uint32_t w) { return (p >> 15) * w + (((p & 0x7FFF) * w) >> 15); }

}  // namespace tinyedge::audio
