// The board's vector table (Cortex-M, qemu mps2-an386): reset goes to newlib's semihosting crt0
// (_start, rdimon.specs), which sets up the C runtime, calls main and exits qemu with its status.
extern "C" void _start();
extern "C" unsigned int __stack_top;
extern "C" __attribute__((section(".vectors"), used)) void* const vector_table[16] = {
    &__stack_top,
    reinterpret_cast<void*>(&_start),
};
