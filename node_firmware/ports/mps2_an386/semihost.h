// ARM semihosting (QEMU: -semihosting-config enable=on,target=native): a debug console for the
// firmware's own figures (instructions per inference) without pulling in newlib's stdio.
#pragma once
#include <cstdint>

namespace tinyedge::mps2 {

void semihost_write(const char* text);
// Appends: a tiny formatter for "text" + number lines.
void semihost_print(const char* label, uint64_t value, const char* tail = "\n");
[[noreturn]] void semihost_exit(int code);

}  // namespace tinyedge::mps2
