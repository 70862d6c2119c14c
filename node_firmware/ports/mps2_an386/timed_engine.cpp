#include "node_firmware/ports/mps2_an386/timed_engine.h"

#include "node_firmware/ports/mps2_an386/semihost.h"
#include "node_firmware/ports/mps2_an386/m4_platform.h"
#include "node_firmware/ports/mps2_an386/systick.h"

namespace tinyedge::mps2 {
namespace {

void print_hex_line(const char* label, std::span<const int8_t> bytes) {
  static const char kHex[] = "0123456789abcdef";
  semihost_write(label);
  char chunk[65];
  size_t n = 0;
  for (int8_t v : bytes) {
    const uint8_t b = static_cast<uint8_t>(v);
    chunk[n++] = kHex[b >> 4];
    chunk[n++] = kHex[b & 15];
    if (n == 64) {
      chunk[n] = '\0';
      semihost_write(chunk);
      n = 0;
    }
  }
  chunk[n] = '\0';
  semihost_write(chunk);
  semihost_write("\n");
}

}  // namespace

bool TimedEngine::invoke() {
  const uint64_t start = now_ns();
  const bool ok = inner_.invoke();
  const uint64_t ns = now_ns() - start;
  ++count_;
  semihost_print("tinyedge: inference ", count_, "");
  semihost_print(ok ? " ok, instructions " : " FAILED, instructions ", ns, "");
  semihost_print(", stack never used ", stack_untouched_bytes(), " bytes\n");
  if (ok && count_ == 1) print_hex_line("tinyedge: output ", inner_.output());
  return ok;
}

}  // namespace tinyedge::mps2
