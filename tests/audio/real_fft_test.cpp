// The fixed-point real FFT against the DFT in double precision.
#include "node_firmware/audio/real_fft.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>
#include <vector>

namespace tinyedge::audio {
namespace {

// Bound: the twiddle products are rounded once per butterfly; an error made at stage t passes
// through the later butterflies, which at most double it, so over the log2(n/2) stages and the
// split the total stays below n/2 + 2 units. Measured errors are far smaller (printed).
TEST(AudioRealFft, MatchesTheDoubleDftWithinHalfNUnits) {
  std::mt19937 rng(11);
  for (uint32_t n : {16u, 64u, 512u, 1024u}) {
    std::vector<int32_t> table(n / 4 + 1);
    fill_quarter_cos(table, n);
    const int32_t amplitude = (1 << 30) / static_cast<int32_t>(n) - 1;  // sum |x| < 2^30
    double worst = 0;
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<int32_t> x(n);
      for (auto& v : x) v = static_cast<int32_t>(rng() % (2u * amplitude + 1)) - amplitude;
      if (trial == 0) std::fill(x.begin(), x.end(), amplitude);  // the worst case: everything in X[0]
      std::vector<int32_t> y = x;
      real_fft(y, n, table);
      for (uint32_t k = 0; k <= n / 2; ++k) {
        std::complex<double> want = 0;
        for (uint32_t j = 0; j < n; ++j) want += double(x[j]) * std::polar(1.0, -2 * M_PI * double(j) * k / n);
        const std::complex<double> got = k == 0       ? std::complex<double>(y[0], 0)
                                         : k == n / 2 ? std::complex<double>(y[1], 0)
                                                      : std::complex<double>(y[2 * k], y[2 * k + 1]);
        const double err = std::abs(got - want);
        worst = std::max(worst, err);
        ASSERT_LE(err, n / 2.0 + 2) << "n=" << n << " k=" << k << " got " << got << " want " << want;
      }
    }
    std::printf("real_fft n=%u: worst |X - X_ref| = %.2f units (bound %u)\n", n, worst, n / 2 + 2);
  }
}

}  // namespace
}  // namespace tinyedge::audio
