// Reset and vector table for the Cortex-M4 of the MPS2 AN386: copy .data from flash, zero .bss,
// paint the stack (for the high-water mark), run constructors, call main.
#include <cstdint>

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
  for (auto** f = __init_array_start; f < __init_array_end; ++f) (*f)();
  main();
  for (;;) {
  }
}

extern "C" void Default_Handler() {
  for (;;) {
  }
}

extern "C" void HardFault_Handler() {
  for (;;) {
  }
}

// The vector table: initial SP, 15 system exceptions, then the AN386's external interrupts
// (UART0 RX is IRQ 0).
using Vector = void (*)();
__attribute__((section(".vectors"), used)) const Vector g_vectors[16 + 32] = {
    reinterpret_cast<Vector>(&__stack_top),
    Reset_Handler,
    Default_Handler,    // NMI
    HardFault_Handler,  // HardFault
    Default_Handler,    // MemManage
    Default_Handler,    // BusFault
    Default_Handler,    // UsageFault
    nullptr, nullptr, nullptr, nullptr,
    Default_Handler,  // SVCall
    Default_Handler,  // DebugMon
    nullptr,
    Default_Handler,  // PendSV
    SysTick_Handler,
    UART0RX_Handler,  // IRQ 0
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler,
};

namespace tinyedge::mps2 {

// Bytes of the stack never written since boot.
uint32_t stack_untouched_bytes() {
  uint32_t n = 0;
  for (const uint32_t* p = &__stack_limit; p < &__stack_top && *p == kStackPaint; ++p) n += 4;
  return n;
}

}  // namespace tinyedge::mps2
