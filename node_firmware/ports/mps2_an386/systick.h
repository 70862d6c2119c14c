// SysTick time base on the processor clock (board.h: 25 MHz on the AN386, 20 MHz on the AN505). Under `qemu -icount
// shift=0` one instruction takes one virtual nanosecond, so elapsed virtual ns = instructions executed.
#pragma once
#include <cstdint>

#include "node_firmware/ports/mps2_an386/board.h"

namespace tinyedge::mps2 {

void systick_init();
// Virtual nanoseconds since systick_init() (resolution: one clock tick, 40 ns on the AN386).
uint64_t now_ns();
uint32_t now_ms();

}  // namespace tinyedge::mps2
