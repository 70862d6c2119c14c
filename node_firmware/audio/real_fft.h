// Fixed-point real FFT: radix-2 decimation in time on n/2 complex points (the even samples as
// real parts, the odd ones as imaginary parts), then the split that turns it into the n-point
// DFT of the real input. No scaling between stages: the caller leaves log2(n) bits of headroom
// (|input| * n < 2^30), so every partial DFT fits int32 and no precision is thrown away.
#pragma once
#include <cstdint>
#include <span>

namespace tinyedge::audio {

// table[i] = cos(2*pi*i/n) in Q30 for i = 0..n/4 (n/4 + 1 entries): every twiddle of an n-point
// real FFT. n is a power of two >= 8.
void fill_quarter_cos(std::span<int32_t> table, uint32_t n);

// In place. In: data[0..n) real samples with sum |x| < 2^30. Out: data[0] = Re X[0],
// data[1] = Re X[n/2] (both purely real), data[2k], data[2k+1] = Re, Im X[k] for 0 < k < n/2,
// where X[k] = sum_j x[j] e^(-2 pi i j k / n), rounded to integers.
void real_fft(std::span<int32_t> data, uint32_t n, std::span<const int32_t> quarter_cos);

}  // namespace tinyedge::audio
