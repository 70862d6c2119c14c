// The inner loop every optimised kernel shares: an int8 x int8 dot product accumulated in int32.
// Portable C++ that GCC/Clang vectorise on the host; on a Cortex-M4 with the DSP extension,
// SXTB16 + SMLAD do two multiply-accumulates per instruction.
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

namespace tinyedge::runtime::optimized {

#if defined(__ARM_FEATURE_DSP)
// A rotate GCC folds into SXTB16's ROR operand (this arm_acle.h has no __ror).
inline uint32_t ror8(uint32_t v) { return (v >> 8) | (v << 24); }

inline int32_t dot(const int8_t* x, const int8_t* w, int32_t n) {
  int32_t acc = 0;
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t xv;
    uint32_t wv;
    std::memcpy(&xv, x + i, 4);
    std::memcpy(&wv, w + i, 4);
    // Bytes 0,2 and 1,3 sign-extended into halfword pairs; the sum of products is order-free.
    acc = __smlad(__sxtb16(xv), __sxtb16(wv), acc);
    acc = __smlad(__sxtb16(ror8(xv)), __sxtb16(ror8(wv)), acc);
  }
  for (; i < n; ++i) acc += x[i] * w[i];
  return acc;
}

// Four dot products sharing x; weight rows w, w+n, w+2n, w+3n.
inline void dot4(const int8_t* x, const int8_t* w, int32_t n, int32_t out[4]) {
  const int8_t* w0 = w;
  const int8_t* w1 = w + n;
  const int8_t* w2 = w + 2 * n;
  const int8_t* w3 = w + 3 * n;
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t xv, v0, v1, v2, v3;
    std::memcpy(&xv, x + i, 4);
    std::memcpy(&v0, w0 + i, 4);
    std::memcpy(&v1, w1 + i, 4);
    std::memcpy(&v2, w2 + i, 4);
    std::memcpy(&v3, w3 + i, 4);
    const uint32_t xe = __sxtb16(xv), xo = __sxtb16(ror8(xv));
    a0 = __smlad(xe, __sxtb16(v0), __smlad(xo, __sxtb16(ror8(v0)), a0));
    a1 = __smlad(xe, __sxtb16(v1), __smlad(xo, __sxtb16(ror8(v1)), a1));
    a2 = __smlad(xe, __sxtb16(v2), __smlad(xo, __sxtb16(ror8(v2)), a2));
    a3 = __smlad(xe, __sxtb16(v3), __smlad(xo, __sxtb16(ror8(v3)), a3));
  }
  for (; i < n; ++i) {
    a0 += x[i] * w0[i];
    a1 += x[i] * w1[i];
    a2 += x[i] * w2[i];
    a3 += x[i] * w3[i];
  }
  out[0] = a0;
  out[1] = a1;
  out[2] = a2;
  out[3] = a3;
}
#else
inline int32_t dot(const int8_t* __restrict x, const int8_t* __restrict w, int32_t n) {
  int32_t acc = 0;
  for (int32_t i = 0; i < n; ++i) acc += static_cast<int16_t>(x[i]) * static_cast<int16_t>(w[i]);
  return acc;
}

// Four dot products sharing x; weight rows w, w+n, w+2n, w+3n. One pass over x, four
// vector accumulators.
inline void dot4(const int8_t* __restrict x, const int8_t* __restrict w, int32_t n, int32_t out[4]) {
  const int8_t* __restrict w0 = w;
  const int8_t* __restrict w1 = w + n;
  const int8_t* __restrict w2 = w + 2 * n;
  const int8_t* __restrict w3 = w + 3 * n;
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (int32_t i = 0; i < n; ++i) {
    const int16_t xv = x[i];
    a0 += xv * static_cast<int16_t>(w0[i]);
    a1 += xv * static_cast<int16_t>(w1[i]);
    a2 += xv * static_cast<int16_t>(w2[i]);
    a3 += xv * static_cast<int16_t>(w3[i]);
  }
  out[0] = a0;
  out[1] = a1;
  out[2] = a2;
  out[3] = a3;
}
#endif

}  // namespace tinyedge::runtime::optimized
