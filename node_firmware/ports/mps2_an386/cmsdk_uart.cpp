#include "node_firmware/ports/mps2_an386/cmsdk_uart.h"

#include "node_firmware/ports/mps2_an386/board.h"

namespace tinyedge::mps2 {
namespace {

struct UartRegs {
  volatile uint32_t data;
  volatile uint32_t state;      // bit0 TX full, bit1 RX full, bit2/3 overrun
  volatile uint32_t ctrl;       // bit0 TX enable, bit1 RX enable, bit3 RX interrupt enable
  volatile uint32_t intstatus;  // write 1 to clear; bit1 RX
  volatile uint32_t bauddiv;
};

UartRegs& regs() { return *reinterpret_cast<UartRegs*>(kUart0Base); }

constexpr uint32_t kStateTxFull = 1u << 0;
constexpr uint32_t kStateRxFull = 1u << 1;
constexpr uint32_t kCtrlTxEnable = 1u << 0;
constexpr uint32_t kCtrlRxEnable = 1u << 1;
constexpr uint32_t kCtrlRxIrqEnable = 1u << 3;
constexpr uint32_t kIntRx = 1u << 1;

// The NVIC's set-enable register holding UART0's receive interrupt (32 interrupts per register).
volatile uint32_t& nvic_iser_uart0_rx() {
  return *reinterpret_cast<volatile uint32_t*>(0xE000E100u + 4u * (kUart0RxIrq / 32u));
}

CmsdkUart g_uart0;

}  // namespace

CmsdkUart& uart0() { return g_uart0; }

void CmsdkUart::init() {
  regs().bauddiv = 16;  // the smallest divisor the UART accepts; QEMU ignores the rate
  regs().ctrl = kCtrlTxEnable | kCtrlRxEnable | kCtrlRxIrqEnable;
  nvic_iser_uart0_rx() = 1u << (kUart0RxIrq % 32u);
}

void CmsdkUart::write(std::span<const uint8_t> bytes) {
  for (uint8_t b : bytes) {
    while (regs().state & kStateTxFull) {
    }
    regs().data = b;
  }
}

// Moves bytes from the data register into the ring. When the ring is full the byte stays in the
// register and the interrupt is masked: the sender is held back (in QEMU, the socket) instead of
// bytes being lost, until read() makes room.
void CmsdkUart::take_pending() {
  while (regs().state & kStateRxFull) {
    const uint32_t head = head_;
    if (head - tail_ >= kRxRing) {
      regs().ctrl = regs().ctrl & ~kCtrlRxIrqEnable;
      rx_masked_ = true;
      rx_stalls_ = rx_stalls_ + 1;
      return;
    }
    rx_[head % kRxRing] = static_cast<uint8_t>(regs().data);
    head_ = head + 1;
  }
}

void CmsdkUart::on_rx_interrupt() {
  // Cleared first: a byte arriving while the ring is drained raises the interrupt again.
  regs().intstatus = kIntRx;
  take_pending();
}

void CmsdkUart::resume_rx() {
  asm volatile("cpsid i" ::: "memory");
  rx_masked_ = false;
  regs().ctrl = regs().ctrl | kCtrlRxIrqEnable;
  take_pending();  // what waited in the register, or arrived while the interrupt was masked
  asm volatile("cpsie i" ::: "memory");
}

bool CmsdkUart::read(uint8_t& byte) {
  if (rx_masked_) resume_rx();
  const uint32_t tail = tail_;
  if (tail == head_) return false;
  byte = rx_[tail % kRxRing];
  tail_ = tail + 1;
  return true;
}

}  // namespace tinyedge::mps2

extern "C" void UART0RX_Handler() { tinyedge::mps2::uart0().on_rx_interrupt(); }
