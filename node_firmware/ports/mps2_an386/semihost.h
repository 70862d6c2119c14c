// ARM semihosting (QEMU: -semihosting-config enable=on,target=native): a debug console for the
// firmware's own figures (instructions per inference) without pulling in newlib's stdio.
#pragma once
#include <cstdint>

namespace tinyedge::mps2 {

void semihost_write(const char* text);
// Appends: a tiny formatter for "text" + number lines.
void semihost_print(const char* label, uint64_t value, const char* tail = "\n");
[[noreturn]] void semihost_exit(int code);

// Host files (the node's flash file under qemu). Handles are the host's; -1 is failure. The
// transfers return whether every byte moved.
enum class SemihostMode : uint32_t { kReadWrite = 3, kCreate = 7 };  // "r+b", "w+b"
int32_t semihost_open(const char* path, uint32_t path_length, SemihostMode mode);
int32_t semihost_file_length(int32_t handle);  // -1 on failure
bool semihost_seek(int32_t handle, uint32_t position);
bool semihost_read(int32_t handle, void* out, uint32_t bytes);
bool semihost_write_file(int32_t handle, const void* data, uint32_t bytes);
// The command line qemu was started with (-kernel's file, then -append's text), NUL-terminated;
// its length, 0 if there is none or it does not fit.
uint32_t semihost_command_line(char* out, uint32_t capacity);

}  // namespace tinyedge::mps2
