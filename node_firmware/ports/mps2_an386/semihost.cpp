#include "node_firmware/ports/mps2_an386/semihost.h"

#include <cstddef>

namespace tinyedge::mps2 {
namespace {

constexpr uint32_t kSysWrite0 = 0x04;
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

void semihost_exit(int code) {
  const uint32_t block[2] = {kAdpStoppedApplicationExit, static_cast<uint32_t>(code)};
  semihost_call(kSysExit, block);
  for (;;) {
  }
}

}  // namespace tinyedge::mps2
