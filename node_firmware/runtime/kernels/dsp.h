// The Cortex-M4 DSP-extension instructions the M4 kernels (dsp_*.h) are written in: ACLE
// intrinsics where the target has them (__ARM_FEATURE_DSP), and a portable emulation with the same
// bits elsewhere, so that the host tests can hold the M4 kernels to the reference kernels without
// an emulator. Values are int16 pairs in one uint32 (bottom half, top half); every sum wraps
// like the instructions (they only set the Q flag on overflow).
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

// The helpers below are a few instructions each; -Os would otherwise call them per element.
#define TINYEDGE_DSP_INLINE inline __attribute__((always_inline))

namespace tinyedge::runtime::dsp {

TINYEDGE_DSP_INLINE uint32_t load32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // one LDR: the M4 allows unaligned word loads
  return v;
}

TINYEDGE_DSP_INLINE int32_t bottom(uint32_t v) { return static_cast<int16_t>(v & 0xFFFF); }
TINYEDGE_DSP_INLINE int32_t top(uint32_t v) { return static_cast<int16_t>(v >> 16); }
TINYEDGE_DSP_INLINE int32_t add_wrap(int32_t a, uint32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + b);
}

#if defined(__ARM_FEATURE_DSP)
// Bytes 0 and 2, sign-extended to halves.
TINYEDGE_DSP_INLINE uint32_t sxtb16(uint32_t v) { return __sxtb16(v); }
// Bytes 1 and 3: one SXTB16 with its ROR #8 operand (GCC 12 does not fold a rotate into __sxtb16).
TINYEDGE_DSP_INLINE uint32_t sxtb16_odd(uint32_t v) {
  uint32_t r;
  asm("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}
TINYEDGE_DSP_INLINE int32_t smlad(uint32_t a, uint32_t b, int32_t acc) { return __smlad(a, b, acc); }
TINYEDGE_DSP_INLINE int32_t smlabb(uint32_t a, uint32_t b, int32_t acc) { return __smlabb(a, b, acc); }
TINYEDGE_DSP_INLINE int32_t smlatt(uint32_t a, uint32_t b, int32_t acc) { return __smlatt(a, b, acc); }
#else
TINYEDGE_DSP_INLINE uint32_t halves(int32_t lo, int32_t hi) {
  return (static_cast<uint32_t>(lo) & 0xFFFF) | (static_cast<uint32_t>(hi) << 16);
}
TINYEDGE_DSP_INLINE uint32_t sxtb16(uint32_t v) { return halves(static_cast<int8_t>(v), static_cast<int8_t>(v >> 16)); }
TINYEDGE_DSP_INLINE uint32_t sxtb16_odd(uint32_t v) {
  return halves(static_cast<int8_t>(v >> 8), static_cast<int8_t>(v >> 24));
}
TINYEDGE_DSP_INLINE int32_t smlad(uint32_t a, uint32_t b, int32_t acc) {
  return add_wrap(acc, static_cast<uint32_t>(bottom(a) * bottom(b)) + static_cast<uint32_t>(top(a) * top(b)));
}
TINYEDGE_DSP_INLINE int32_t smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return add_wrap(acc, static_cast<uint32_t>(bottom(a) * bottom(b)));
}
TINYEDGE_DSP_INLINE int32_t smlatt(uint32_t a, uint32_t b, int32_t acc) {
  return add_wrap(acc, static_cast<uint32_t>(top(a) * top(b)));
}
#endif

}  // namespace tinyedge::runtime::dsp
