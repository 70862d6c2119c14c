// Minimal Cortex-M4 vector table for the self-test under qemu mps2-an386: reset goes straight to
// newlib's crt0 (_start, rdimon semihosting), which sets up the C runtime and calls main.
extern "C" void _start();
extern "C" unsigned int __stack_top;
extern "C" __attribute__((section(".vectors"), used)) void* const vector_table[16] = {
    &__stack_top,
    reinterpret_cast<void*>(&_start),
};
