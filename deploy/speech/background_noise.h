// Generated background noise for mixing with speech: white, pink (1/f), brown (1/f^2) and mains
// hum with harmonics, each at unit RMS, from a seed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tinyedge::speech {

enum class NoiseKind : uint8_t { kWhite, kPink, kBrown, kHum };
inline constexpr int kNoiseKinds = 4;
const char* noise_name(NoiseKind kind);

// `n` samples of unit-RMS noise.
std::vector<double> make_noise(NoiseKind kind, size_t n, uint64_t seed);

// splitmix64: a well-mixed 64-bit value from any 64-bit value (seeds per clip, independent of
// the order clips are made in).
uint64_t mix64(uint64_t x);
uint64_t hash_string(const std::string& s, uint64_t seed);
// Uniform in [0, 1) from the top 53 bits.
inline double unit(uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }

}  // namespace tinyedge::speech
