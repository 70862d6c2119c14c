// Reset and vector table for the MPS2 boards (Cortex-M4 AN386, Cortex-M33 AN505): copy .data from flash, zero .bss,
// paint the stack (for the high-water mark), run constructors, call main.
#include <cstdint>

#include "node_firmware/ports/mps2_an386/board.h"
#include "node_firmware/ports/mps2_an386/semihost.h"

extern "C" {
extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern uint32_t __stack_limit, __stack_top;
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
int main();
void Reset_Handler();
void Default_Handler();
void HardFault_Handler();
void SysTick_Handler();
void UART0RX_Handler();
#ifdef TINYEDGE_MPS2_UART1_RX_IRQ
// UART1's receive interrupt: the speech images' microphone line (uart_microphone.cpp) when linked.
__attribute__((weak)) void UART1RX_Handler() {
  for (;;) {
  }
}
#endif

// Nothing here may be called by the firmware: it has no heap, no exit path through libc.
void _init() {}
void _fini() {}
void __cxa_pure_virtual() {
  for (;;) {
  }
}
// Mbed TLS's default allocator hooks name calloc/free (the OTA verifier swaps in its static
// heap before use), which drag in newlib's malloc: there is no heap, so it always fails.
void* _sbrk(int) { return reinterpret_cast<void*>(-1); }
void _exit(int) {
  for (;;) {
  }
}
}

namespace {
constexpr uint32_t kStackPaint = 0xA5A5A5A5u;
}

extern "C" void Reset_Handler() {
  // Enable nothing fancy: no FPU (soft-float build), no caches on this core.
  uint32_t* src = &__data_load;
  for (uint32_t* dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
  for (uint32_t* dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
  // Paint the stack below the current frame so free_ram_bytes can report the untouched part.
  uint32_t* sp;
  asm volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t* p = &__stack_limit; p < sp - 16; ++p) *p = kStackPaint;
#if defined(__ARM_ARCH_8M_MAIN__)
  // Armv8-M checks the stack limit in hardware: an overflow faults instead of running into .arena.
  asm volatile("msr msplim, %0" : : "r"(&__stack_limit));
#endif
  for (auto** f = __init_array_start; f < __init_array_end; ++f) (*f)();
  // A node's main never returns; a test image's (e.g. reference vectors) ends qemu with its code.
  tinyedge::mps2::semihost_exit(main());
}

extern "C" void Default_Handler() {
  for (;;) {
  }
}

extern "C" void HardFault_Handler() {
  for (;;) {
  }
}

// The vector table: initial SP, 15 system exceptions, then the board's external interrupts, all
// to Default_Handler but UART0's receive interrupt (board.h: IRQ 0 on the AN386, 32 on the AN505).
using Vector = void (*)();
constexpr uint32_t kExternalIrqs = tinyedge::mps2::kUart0RxIrq < 32 ? 32 : tinyedge::mps2::kUart0RxIrq + 1;
struct VectorTable {
  uint32_t* initial_sp;
  Vector handlers[15 + kExternalIrqs];
};
constexpr VectorTable make_vectors() {
  VectorTable t{&__stack_top, {}};
  for (Vector& v : t.handlers) v = Default_Handler;
  t.handlers[0] = Reset_Handler;
  t.handlers[2] = HardFault_Handler;
  constexpr int kReserved[] = {6, 7, 8, 9, 12};
  for (int reserved : kReserved) t.handlers[reserved] = nullptr;
  t.handlers[14] = SysTick_Handler;
  t.handlers[15 + tinyedge::mps2::kUart0RxIrq] = UART0RX_Handler;
#ifdef TINYEDGE_MPS2_UART1_RX_IRQ
  t.handlers[15 + TINYEDGE_MPS2_UART1_RX_IRQ] = UART1RX_Handler;
#endif
  return t;
}
__attribute__((section(".vectors"), used)) constinit const VectorTable g_vectors = make_vectors();

namespace tinyedge::mps2 {

// Bytes of the stack never written since boot.
uint32_t stack_untouched_bytes() {
  uint32_t n = 0;
  for (const uint32_t* p = &__stack_limit; p < &__stack_top && *p == kStackPaint; ++p) n += 4;
  return n;
}

}  // namespace tinyedge::mps2
