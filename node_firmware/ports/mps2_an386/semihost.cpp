#include "node_firmware/ports/mps2_an386/semihost.h"

#include <cstddef>

namespace tinyedge::mps2 {
namespace {

constexpr uint32_t kSysOpen = 0x01;
constexpr uint32_t kSysWrite0 = 0x04;
constexpr uint32_t kSysWrite = 0x05;
constexpr uint32_t kSysRead = 0x06;
constexpr uint32_t kSysSeek = 0x0A;
constexpr uint32_t kSysFlen = 0x0C;
constexpr uint32_t kSysGetCmdline = 0x15;
constexpr uint32_t kSysExit = 0x18;
constexpr uint32_t kAdpStoppedApplicationExit = 0x20026;

uint32_t semihost_call(uint32_t op, const void* arg) {
  register uint32_t r0 asm("r0") = op;
  register const void* r1 asm("r1") = arg;
  asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

}  // namespace

void semihost_write(const char* text) { semihost_call(kSysWrite0, text); }

void semihost_print(const char* label, uint64_t value, const char* tail) {
  char buf[96];
  std::size_t n = 0;
  for (const char* p = label; *p != '\0' && n < 60; ++p) buf[n++] = *p;
  char digits[21];
  std::size_t d = 0;
  do {
    digits[d++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (d > 0) buf[n++] = digits[--d];
  for (const char* p = tail; *p != '\0' && n < sizeof(buf) - 1; ++p) buf[n++] = *p;
  buf[n] = '\0';
  semihost_write(buf);
}

int32_t semihost_open(const char* path, uint32_t path_length, SemihostMode mode) {
  const uint32_t block[3] = {reinterpret_cast<uint32_t>(path), static_cast<uint32_t>(mode), path_length};
  return static_cast<int32_t>(semihost_call(kSysOpen, block));
}

int32_t semihost_file_length(int32_t handle) {
  const uint32_t block[1] = {static_cast<uint32_t>(handle)};
  return static_cast<int32_t>(semihost_call(kSysFlen, block));
}

bool semihost_seek(int32_t handle, uint32_t position) {
  const uint32_t block[2] = {static_cast<uint32_t>(handle), position};
  return semihost_call(kSysSeek, block) == 0;
}

// SYS_READ and SYS_WRITE answer the number of bytes NOT transferred.
bool semihost_read(int32_t handle, void* out, uint32_t bytes) {
  const uint32_t block[3] = {static_cast<uint32_t>(handle), reinterpret_cast<uint32_t>(out), bytes};
  return semihost_call(kSysRead, block) == 0;
}

bool semihost_write_file(int32_t handle, const void* data, uint32_t bytes) {
  const uint32_t block[3] = {static_cast<uint32_t>(handle), reinterpret_cast<uint32_t>(data), bytes};
  return semihost_call(kSysWrite, block) == 0;
}

uint32_t semihost_command_line(char* out, uint32_t capacity) {
  uint32_t block[2] = {reinterpret_cast<uint32_t>(out), capacity};
  if (capacity == 0 || semihost_call(kSysGetCmdline, block) != 0 || block[1] >= capacity) return 0;
  out[block[1]] = '\0';
  return block[1];
}

void semihost_exit(int code) {
  const uint32_t block[2] = {kAdpStoppedApplicationExit, static_cast<uint32_t>(code)};
  semihost_call(kSysExit, block);
  for (;;) {
  }
}

}  // namespace tinyedge::mps2
