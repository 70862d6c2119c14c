#include "node_firmware/ports/mps2_an386/systick.h"

namespace tinyedge::mps2 {
namespace {

struct SysTickRegs {
  volatile uint32_t ctrl;  // bit0 enable, bit1 interrupt, bit2 processor clock
  volatile uint32_t load;
  volatile uint32_t val;
  volatile uint32_t calib;
};
SysTickRegs& systick() { return *reinterpret_cast<SysTickRegs*>(0xE000E010u); }

constexpr uint32_t kTicksPerMs = kCpuHz / 1000;
constexpr uint32_t kNsPerTick = 1'000'000'000u / kCpuHz;
volatile uint32_t g_ms = 0;

}  // namespace

void systick_init() {
  systick().load = kTicksPerMs - 1;
  systick().val = 0;
  systick().ctrl = 0x7;
}

uint64_t now_ns() {
  // The millisecond count and the down-counter are read until they agree (an interrupt between
  // the two reads would pair a new count with an old counter).
  for (;;) {
    const uint32_t ms = g_ms;
    const uint32_t val = systick().val;
    const bool wrapped_pending = (*reinterpret_cast<volatile uint32_t*>(0xE000ED04u) & (1u << 26)) != 0;
    if (ms != g_ms) continue;
    uint64_t ticks = uint64_t{ms} * kTicksPerMs + (kTicksPerMs - 1 - val);
    // The counter reloaded but its interrupt has not run yet (interrupts masked): count it.
    if (wrapped_pending && val > kTicksPerMs / 2) ticks += kTicksPerMs;
    return ticks * kNsPerTick;
  }
}

uint32_t now_ms() { return static_cast<uint32_t>(now_ns() / 1'000'000u); }

}  // namespace tinyedge::mps2

extern "C" void SysTick_Handler() { tinyedge::mps2::g_ms = tinyedge::mps2::g_ms + 1; }
