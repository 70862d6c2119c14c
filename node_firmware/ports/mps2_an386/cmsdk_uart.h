// CMSDK APB UART0 of the MPS2 AN386 (QEMU: cmsdk-apb-uart at 0x40004000, RX interrupt = IRQ 0).
// Transmit is polled; received bytes are taken by the RX interrupt into a ring so that bytes
// arriving during an inference wait in RAM, not in the one-byte data register.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/app/frame_bearer.h"

namespace tinyedge::mps2 {

class CmsdkUart final : public app::ByteStream {
 public:
  void init();
  void write(std::span<const uint8_t> bytes) override;
  bool read(uint8_t& byte) override;

  // Called from the RX interrupt handler.
  void on_rx_interrupt();
  uint32_t rx_overruns() const { return overruns_; }

 private:
  // Bytes that wait while an inference runs; QEMU holds the rest in the socket (flow control).
  static constexpr uint32_t kRxRing = 64;  // power of two
  volatile uint8_t rx_[kRxRing] = {};
  volatile uint32_t head_ = 0;  // written by the interrupt
  volatile uint32_t tail_ = 0;  // written by the main loop
  volatile uint32_t overruns_ = 0;
};

CmsdkUart& uart0();

}  // namespace tinyedge::mps2
