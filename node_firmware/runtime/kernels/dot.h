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
#else
inline int32_t dot(const int8_t* __restrict x, const int8_t* __restrict w, int32_t n) {
  int32_t acc = 0;
  for (int32_t i = 0; i < n; ++i) acc += static_cast<int16_t>(x[i]) * static_cast<int16_t>(w[i]);
  return acc;
}
#endif

}  // namespace tinyedge::runtime::optimized
