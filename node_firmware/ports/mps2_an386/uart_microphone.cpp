#include "node_firmware/ports/mps2_an386/uart_microphone.h"

#include "node_firmware/ports/mps2_an386/board.h"
#include "node_firmware/ports/mps2_an386/systick.h"

namespace tinyedge::mps2 {
namespace {

struct UartRegs {
  volatile uint32_t data;
  volatile uint32_t state;  // bit1 RX full, bit3 RX overrun (write 1 to clear)
  volatile uint32_t ctrl;   // bit1 RX enable, bit3 RX interrupt enable
  volatile uint32_t intstatus;
  volatile uint32_t bauddiv;
};

UartRegs& regs() { return *reinterpret_cast<UartRegs*>(TINYEDGE_MPS2_UART1_BASE); }

constexpr uint32_t kStateRxFull = 1u << 1;
constexpr uint32_t kStateRxOverrun = 1u << 3;
constexpr uint32_t kCtrlRxEnable = 1u << 1;
constexpr uint32_t kCtrlRxIrqEnable = 1u << 3;
constexpr uint32_t kIntRx = 1u << 1;
constexpr uint32_t kRxIrq = TINYEDGE_MPS2_UART1_RX_IRQ;

UartMicrophone g_microphone;

}  // namespace

UartMicrophone& uart1_microphone() { return g_microphone; }

void UartMicrophone::init() {
  regs().bauddiv = 16;  // QEMU ignores the rate; a board's line would run at >= 256 kbit/s for 16 kHz
  regs().ctrl = kCtrlRxEnable | kCtrlRxIrqEnable;
  *reinterpret_cast<volatile uint32_t*>(0xE000E100u + 4u * (kRxIrq / 32u)) = 1u << (kRxIrq % 32u);
}

// Moves bytes from the data register into the ring, two to a sample. A full ring leaves the byte
// in the register and masks the interrupt until read() has made room (the sender waits).
void UartMicrophone::take_pending() {
  if (regs().state & kStateRxOverrun) {
    regs().state = kStateRxOverrun;
    overruns_ = overruns_ + 1;
  }
  while (regs().state & kStateRxFull) {
    if (!have_low_byte_) {
      low_byte_ = static_cast<uint8_t>(regs().data);
      have_low_byte_ = true;
      continue;
    }
    const uint32_t head = head_;
    if (head - tail_ >= kRingSamples) {
      regs().ctrl = regs().ctrl & ~kCtrlRxIrqEnable;
      masked_ = true;
      ring_full_ = ring_full_ + 1;
      return;
    }
    const uint8_t high = static_cast<uint8_t>(regs().data);
    ring_[head % kRingSamples] = static_cast<int16_t>(static_cast<uint16_t>(low_byte_ | (high << 8)));
    have_low_byte_ = false;
    head_ = head + 1;
    last_sample_ms_ = now_ms();
  }
}

void UartMicrophone::on_rx_interrupt() {
  regs().intstatus = kIntRx;  // cleared first: a byte arriving meanwhile raises it again
  take_pending();
}

void UartMicrophone::resume_rx() {
  asm volatile("cpsid i" ::: "memory");
  masked_ = false;
  regs().ctrl = regs().ctrl | kCtrlRxIrqEnable;
  take_pending();  // the byte that waited in the register
  asm volatile("cpsie i" ::: "memory");
}

size_t UartMicrophone::read(std::span<int16_t> out, uint32_t& clip_id) {
  size_t n = 0;
  uint32_t tail = tail_;
  const uint32_t head = head_;
  while (n < out.size() && tail != head) out[n++] = ring_[tail++ % kRingSamples];
  tail_ = tail;
  if (masked_ && n > 0) resume_rx();
  clip_id = 0;  // live audio
  return n;
}

MicrophoneStats UartMicrophone::stats() const {
  asm volatile("cpsid i" ::: "memory");
  const MicrophoneStats s{head_, ring_full_, overruns_, last_sample_ms_};
  asm volatile("cpsie i" ::: "memory");
  return s;
}

}  // namespace tinyedge::mps2

extern "C" void UART1RX_Handler() { tinyedge::mps2::uart1_microphone().on_rx_interrupt(); }
