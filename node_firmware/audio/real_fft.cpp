#include "node_firmware/audio/real_fft.h"

#include "node_firmware/audio/fixed_math.h"

namespace tinyedge::audio {
namespace {

// 32-bit halves so that each product below is one 32x32->64 multiply (SMULL on the M4).
struct Twiddle {
  int32_t c;  // cos(2 pi a / n), Q30
  int32_t s;  // sin(2 pi a / n), Q30
};

// e^(-2 pi i a / n) = c - i s for 0 <= a <= n/2, from the quarter-wave cosine table.
Twiddle twiddle(std::span<const int32_t> quarter_cos, uint32_t n, uint32_t a) {
  const uint32_t q = n / 4;
  if (a <= q) return {quarter_cos[a], quarter_cos[q - a]};
  return {-quarter_cos[n / 2 - a], quarter_cos[a - q]};
}

int64_t round_q30(int64_t v) { return (v + (int64_t{1} << 29)) >> 30; }

}  // namespace

void fill_quarter_cos(std::span<int32_t> table, uint32_t n) {
  for (uint32_t i = 0; i <= n / 4 && i < table.size(); ++i) table[i] = cos_sin_q30(i, n).cos;
}

void real_fft(std::span<int32_t> data, uint32_t n, std::span<const int32_t> quarter_cos) {
  const uint32_t h = n / 2;  // complex points
  int32_t* z = data.data();
  // Bit-reversed order of the h complex points.
  for (uint32_t i = 1, j = 0; i < h; ++i) {
    uint32_t bit = h >> 1;
    for (; (j & bit) != 0; bit >>= 1) j ^= bit;
    j |= bit;
    if (i < j) {
      const int32_t re = z[2 * i], im = z[2 * i + 1];
      z[2 * i] = z[2 * j];
      z[2 * i + 1] = z[2 * j + 1];
      z[2 * j] = re;
      z[2 * j + 1] = im;
    }
  }
  // Butterflies: every intermediate is a partial DFT of a subset of the input, so bounded by
  // sum |x| < 2^30.
  for (uint32_t len = 2; len <= h; len <<= 1) {
    const uint32_t half = len / 2;
    const uint32_t step = n / len;
    for (uint32_t j = 0; j < half; ++j) {
      const uint32_t a = j * step;
      if (a == 0 || a == n / 4) {
        // W = 1 or W = -i (the table holds exactly 2^30 and 0 there): the product is exact
        // without multiplying, the same bits as the general case. Half the butterflies are these.
        const bool minus_i = a != 0;
        for (uint32_t i = j; i < h; i += len) {
          int32_t* u = z + 2 * i;
          int32_t* v = z + 2 * (i + half);
          const int32_t tr = minus_i ? v[1] : v[0];
          const int32_t ti = minus_i ? -v[0] : v[1];
          v[0] = u[0] - tr;
          v[1] = u[1] - ti;
          u[0] += tr;
          u[1] += ti;
        }
        continue;
      }
      const Twiddle w = twiddle(quarter_cos, n, a);
      for (uint32_t i = j; i < h; i += len) {
        int32_t* u = z + 2 * i;
        int32_t* v = z + 2 * (i + half);
        const int32_t tr = static_cast<int32_t>(round_q30(int64_t{w.c} * v[0] + int64_t{w.s} * v[1]));
        const int32_t ti = static_cast<int32_t>(round_q30(int64_t{w.c} * v[1] - int64_t{w.s} * v[0]));
        v[0] = u[0] - tr;
        v[1] = u[1] - ti;
        u[0] += tr;
        u[1] += ti;
      }
    }
  }
  // Split: with A = Z[k], B = Z[h-k], the even and odd halves' DFTs are E = (A + conj B)/2 and
  // O = (A - conj B)/(2i); X[k] = E + W^k O and X[h-k] = conj(E - W^k O), W = e^(-2 pi i/n).
  // Worked in int64 with E and O doubled so the halving happens once, at the end, rounded.
  const int64_t z0r = z[0], z0i = z[1];
  z[0] = static_cast<int32_t>(z0r + z0i);
  z[1] = static_cast<int32_t>(z0r - z0i);
  for (uint32_t k = 1; k <= h / 2; ++k) {
    const uint32_t m = h - k;
    const int64_t ar = z[2 * k], ai = z[2 * k + 1], br = z[2 * m], bi = z[2 * m + 1];
    const int64_t er = ar + br, ei = ai - bi;   // 2E
    const int64_t orr = ai + bi, oi = br - ar;  // 2O
    const Twiddle w = twiddle(quarter_cos, n, k);
    const int64_t tr = round_q30(w.c * orr + w.s * oi);  // W^k * 2O
    const int64_t ti = round_q30(w.c * oi - w.s * orr);
    z[2 * k] = static_cast<int32_t>((er + tr + 1) >> 1);
    z[2 * k + 1] = static_cast<int32_t>((ei + ti + 1) >> 1);
    if (m != k) {
      z[2 * m] = static_cast<int32_t>((er - tr + 1) >> 1);
      z[2 * m + 1] = static_cast<int32_t>((ti - ei + 1) >> 1);
    }
  }
}

}  // namespace tinyedge::audio
