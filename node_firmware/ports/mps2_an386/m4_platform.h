// Platform of the MPS2 AN386 node: SysTick time, stack headroom as free RAM, reset by AIRCR.
#pragma once
#include <cstdint>

#include "node_firmware/app/platform.h"
#include "node_firmware/ports/mps2_an386/systick.h"

namespace tinyedge::mps2 {

uint32_t stack_untouched_bytes();

class M4Platform final : public app::Platform {
 public:
  uint32_t now_ms() override { return mps2::now_ms(); }
  uint32_t now_us() override { return static_cast<uint32_t>(now_ns() / 1000u); }
  uint32_t free_ram_bytes() override { return stack_untouched_bytes(); }
  // No TRNG on this board: the SysTick counter at the moment of asking (it moves with every
  // instruction and with when UART bytes arrived). The node also mixes in its boot id.
  uint32_t entropy() override { return *reinterpret_cast<volatile uint32_t*>(0xE000E018u) ^ now_us(); }
  void request_reboot() override {
    *reinterpret_cast<volatile uint32_t*>(0xE000ED0Cu) = 0x05FA0004u;  // AIRCR.SYSRESETREQ
    for (;;) {
    }
  }
};

}  // namespace tinyedge::mps2
