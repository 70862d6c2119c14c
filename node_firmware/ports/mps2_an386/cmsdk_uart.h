// CMSDK APB UART0 of the MPS2 AN386 (QEMU: cmsdk-apb-uart at 0x40004000, RX interrupt = IRQ 0).
// Transmit is polled; received bytes are taken by the RX interrupt into a ring so that bytes
// arriving during an inference wait in RAM. When the ring is full the interrupt is masked and
// the sender waits (flow control), so no byte is dropped.
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
  uint32_t rx_stalls() const { return rx_stalls_; }  // times the ring filled and held the sender

 private:
  void take_pending();
  void resume_rx();

  static constexpr uint32_t kRxRing = 64;  // power of two
  volatile uint8_t rx_[kRxRing] = {};
  volatile uint32_t head_ = 0;  // written by the interrupt
  volatile uint32_t tail_ = 0;  // written by the main loop
  volatile uint32_t rx_stalls_ = 0;
  volatile bool rx_masked_ = false;  // the ring filled; read() re-enables the interrupt
};

CmsdkUart& uart0();

}  // namespace tinyedge::mps2
