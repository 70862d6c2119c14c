// SysTick time base on the processor clock (25 MHz on the MPS2). Under `qemu -icount shift=0`
// one instruction takes one virtual nanosecond, so elapsed virtual ns = instructions executed.
#pragma once
#include <cstdint>

namespace tinyedge::mps2 {

inline constexpr uint32_t kCpuHz = 25'000'000;

void systick_init();
// Virtual nanoseconds since systick_init() (resolution: one 40 ns clock tick).
uint64_t now_ns();
uint32_t now_ms();

}  // namespace tinyedge::mps2
