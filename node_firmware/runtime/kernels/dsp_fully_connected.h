// FULLY_CONNECTED (int8) for the Cortex-M4 DSP extension: four units per pass over the input,
// each input word extended once (SXTB16 even/odd) and shared by the four units' SMLADs, the four
// accumulators in registers; weights stay in the filter tensor's [units][depth] order (four row
// pointers), or, when the compiler laid them out so (TemPacking::kBiasScalesBlockedFilter), in
// blocks of four units in the order the loop reads them (dsp_blocked_filter.h).
// Compiled on every target (the host tests run it through dsp.h's emulation);
// fully_connected.cpp runs it where __ARM_FEATURE_DSP is defined.
#pragma once
#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/dsp.h"
#include "node_firmware/runtime/kernels/dsp_output.h"
#include "node_firmware/runtime/kernels/dsp_blocked_filter.h"
#include "node_firmware/runtime/kernels/op_context.h"

namespace tinyedge::runtime::dsp {

inline void dot_rows(const int8_t* x, const int8_t* w, int32_t depth, int32_t rows, int32_t acc[4]) {
  const int8_t* w0 = w;
  const int8_t* w1 = rows > 1 ? w + depth : w;
  const int8_t* w2 = rows > 2 ? w + 2 * depth : w;
  const int8_t* w3 = rows > 3 ? w + 3 * depth : w;
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  const int8_t* end = x + (depth & ~3);
#if defined(__ARM_FEATURE_DSP)
  // GCC at -Os keeps one accumulator on the stack (36 instructions per 16 multiply-accumulates);
  // this is 24 (unrolled twice: the compare and taken branch were 4 of about 31 cycles a word).
  if (x != end) {
    uint32_t xe, xo, v, t;
    // One word: 4 inputs against 4 weights of each of four units; written once, run twice a pass.
#define TINYEDGE_FC_4X_WORD             \
  "ldr %[xo], [%[x]], #4\n\t"           \
  "sxtb16 %[xe], %[xo]\n\t"             \
  "sxtb16 %[xo], %[xo], ror #8\n\t"     \
  "ldr %[v], [%[w0]], #4\n\t"           \
  "sxtb16 %[t], %[v]\n\t"               \
  "sxtb16 %[v], %[v], ror #8\n\t"       \
  "smlad %[a0], %[xe], %[t], %[a0]\n\t" \
  "smlad %[a0], %[xo], %[v], %[a0]\n\t" \
  "ldr %[v], [%[w1]], #4\n\t"           \
  "sxtb16 %[t], %[v]\n\t"               \
  "sxtb16 %[v], %[v], ror #8\n\t"       \
  "smlad %[a1], %[xe], %[t], %[a1]\n\t" \
  "smlad %[a1], %[xo], %[v], %[a1]\n\t" \
  "ldr %[v], [%[w2]], #4\n\t"           \
  "sxtb16 %[t], %[v]\n\t"               \
  "sxtb16 %[v], %[v], ror #8\n\t"       \
  "smlad %[a2], %[xe], %[t], %[a2]\n\t" \
  "smlad %[a2], %[xo], %[v], %[a2]\n\t" \
  "ldr %[v], [%[w3]], #4\n\t"           \
  "sxtb16 %[t], %[v]\n\t"               \
  "sxtb16 %[v], %[v], ror #8\n\t"       \
  "smlad %[a3], %[xe], %[t], %[a3]\n\t" \
  "smlad %[a3], %[xo], %[v], %[a3]\n\t"
    asm volatile(
        // Two words per pass: an odd count enters at the second (end - x is 4 per word).
        "sub %[t], %[end], %[x]\n\t"
        "tst %[t], #4\n\t"
        "bne 2f\n\t"
        "1:\n\t" TINYEDGE_FC_4X_WORD "2:\n\t" TINYEDGE_FC_4X_WORD
        "cmp %[x], %[end]\n\t"
        "bne 1b"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w0] "+r"(w0), [w1] "+r"(w1),
          [w2] "+r"(w2), [w3] "+r"(w3), [xe] "=&r"(xe), [xo] "=&r"(xo), [v] "=&r"(v), [t] "=&r"(t)
        : [end] "r"(end)
        : "cc", "memory");
#undef TINYEDGE_FC_4X_WORD
  }
#else
  while (x != end) {
    const uint32_t xv = load32(x);
    x += 4;
    const uint32_t xe = sxtb16(xv), xo = sxtb16_odd(xv);
    uint32_t v = load32(w0);
    w0 += 4;
    a0 = smlad(xo, sxtb16_odd(v), smlad(xe, sxtb16(v), a0));
    v = load32(w1);
    w1 += 4;
    a1 = smlad(xo, sxtb16_odd(v), smlad(xe, sxtb16(v), a1));
    v = load32(w2);
    w2 += 4;
    a2 = smlad(xo, sxtb16_odd(v), smlad(xe, sxtb16(v), a2));
    v = load32(w3);
    w3 += 4;
    a3 = smlad(xo, sxtb16_odd(v), smlad(xe, sxtb16(v), a3));
  }
#endif
  for (int32_t k = 0; k < (depth & 3); ++k) {
    const int32_t xk = x[k];
    a0 += xk * w0[k];
    a1 += xk * w1[k];
    a2 += xk * w2[k];
    a3 += xk * w3[k];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

// dot_rows over one block of a blocked filter (dsp_blocked_filter.h): `w` the block's first byte,
// `rows` (1..4) units in it; acc[j] for j < rows.
inline void dot_rows_blocked(const int8_t* x, const int8_t* w, int32_t depth, int32_t rows, int32_t acc[4]) {
  const int8_t* end = x + (depth & ~3);
  const int8_t* const tail = w + (depth & ~3) * rows;
#if defined(__ARM_FEATURE_DSP)
  // The block's four words for a group of taps are adjacent: five back-to-back loads (the input
  // word and four weight words, 6 cycles on the M4's pipelined loads against dot_rows' 10) and
  // one pointer for all four units. 24 instructions a word like dot_rows, 26 cycles against its 30
  // with the loop, as few as the int16 copy of the weights took (one LDRD of 3 cycles per unit)
  // with half the flash.
  if (rows == 4 && x != end) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    uint32_t xe, xo, v0, v1, v2, v3, t;
#define TINYEDGE_FC_BLOCKED_WORD        \
  "ldr %[xo], [%[x]], #4\n\t"           \
  "ldr %[v1], [%[w], #4]\n\t"           \
  "ldr %[v2], [%[w], #8]\n\t"           \
  "ldr %[v3], [%[w], #12]\n\t"          \
  "ldr %[v0], [%[w]], #16\n\t"          \
  "sxtb16 %[xe], %[xo]\n\t"             \
  "sxtb16 %[xo], %[xo], ror #8\n\t"     \
  "sxtb16 %[t], %[v0]\n\t"              \
  "sxtb16 %[v0], %[v0], ror #8\n\t"     \
  "smlad %[a0], %[xe], %[t], %[a0]\n\t" \
  "smlad %[a0], %[xo], %[v0], %[a0]\n\t" \
  "sxtb16 %[t], %[v1]\n\t"              \
  "sxtb16 %[v1], %[v1], ror #8\n\t"     \
  "smlad %[a1], %[xe], %[t], %[a1]\n\t" \
  "smlad %[a1], %[xo], %[v1], %[a1]\n\t" \
  "sxtb16 %[t], %[v2]\n\t"              \
  "sxtb16 %[v2], %[v2], ror #8\n\t"     \
  "smlad %[a2], %[xe], %[t], %[a2]\n\t" \
  "smlad %[a2], %[xo], %[v2], %[a2]\n\t" \
  "sxtb16 %[t], %[v3]\n\t"              \
  "sxtb16 %[v3], %[v3], ror #8\n\t"     \
  "smlad %[a3], %[xe], %[t], %[a3]\n\t" \
  "smlad %[a3], %[xo], %[v3], %[a3]\n\t"
    asm volatile(
        // Two words per pass: an odd count enters at the second (end - x is 4 per word).
        "sub %[t], %[end], %[x]\n\t"
        "tst %[t], #4\n\t"
        "bne 2f\n\t"
        "1:\n\t" TINYEDGE_FC_BLOCKED_WORD "2:\n\t" TINYEDGE_FC_BLOCKED_WORD
        "cmp %[x], %[end]\n\t"
        "bne 1b"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w] "+r"(w), [xe] "=&r"(xe),
          [xo] "=&r"(xo), [v0] "=&r"(v0), [v1] "=&r"(v1), [v2] "=&r"(v2), [v3] "=&r"(v3), [t] "=&r"(t)
        : [end] "r"(end)
        : "cc", "memory");
#undef TINYEDGE_FC_BLOCKED_WORD
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
  }
#endif
  // The portable loop (every target; on the M4 only a short last block, which is rare).
  for (; x != end; x += 4) {
    const uint32_t xv = load32(x);
    const uint32_t xe = sxtb16(xv), xo = sxtb16_odd(xv);
    for (int32_t j = 0; j < rows; ++j, w += 4) {
      const uint32_t v = load32(w);
      acc[j] = smlad(xo, sxtb16_odd(v), smlad(xe, sxtb16(v), acc[j]));
    }
  }
  const int32_t left = depth & 3;
  for (int32_t j = 0; j < rows; ++j) {
    for (int32_t k = 0; k < left; ++k) acc[j] += x[k] * tail[j * left + k];
  }
}

// The compiler laid the filter out in blocks (TemPacking::kBiasScalesBlockedFilter).
inline bool blocked_filter(const OpContext& ctx) {
  return ctx.params_as<BasicOpParams>().packing == static_cast<uint8_t>(TemPacking::kBiasScalesBlockedFilter);
}

inline void fully_connected(const OpContext& ctx, const uint32_t* scales) {
  const int32_t units = ctx.filter_shape.n;
  const int32_t depth = ctx.filter_shape.c;
  const int32_t batches = ctx.output_shape.elements() / units;
  const OutputRange range = output_range(ctx);
  const bool blocked = blocked_filter(ctx);
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t* x = ctx.input + b * depth;
    int8_t* dst = ctx.output + b * units;
    for (int32_t u = 0; u < units; u += 4) {
      const int32_t rows = units - u < 4 ? units - u : 4;  // a short last block repeats row u
      int32_t acc[4] = {ctx.packed[u], ctx.packed[u + (rows > 1)], ctx.packed[u + 2 * (rows > 2)],
                        ctx.packed[u + 3 * (rows > 3)]};
      if (blocked) {
        dot_rows_blocked(x, ctx.filter + u * depth, depth, rows, acc);  // block u / 4 starts at row u
      } else {
        dot_rows(x, ctx.filter + u * depth, depth, rows, acc);
      }
      for (int32_t j = 0; j < rows; ++j)
        dst[u + j] = to_output(range, scale(channel_scale(ctx, scales, u + j), acc[j]));
    }
  }
}

}  // namespace tinyedge::runtime::dsp
