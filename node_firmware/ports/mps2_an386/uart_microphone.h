// A microphone on UART1 of the MPS2 AN386: raw 16 kHz mono int16 PCM, little-endian, arrives as a
// byte stream, the way an I2S/PDM microphone's DMA fills a buffer on a real board. The RX
// interrupt assembles samples into an audio ring that the speech listener drains, so audio keeps
// arriving while an inference runs.
//
// When the ring is full the interrupt is masked and the byte waits in the UART's data register:
// the sender is held back (in QEMU the host's file or socket waits) and no sample is lost, but a
// real microphone cannot wait, so every such stall is counted (a node that stalls is slower than
// real time). A byte the UART itself drops (its RX overrun flag) is counted too. Both are in
// stats() for the node's log: back-pressure and overrun are never silent.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "node_firmware/app/microphone.h"

namespace tinyedge::mps2 {

struct MicrophoneStats {
  uint64_t samples = 0;    // samples assembled from the line
  uint32_t ring_full = 0;  // times the ring filled and held the sender back
  uint32_t overruns = 0;   // bytes the UART dropped before the interrupt took them
  uint32_t last_sample_ms = 0;
};

class UartMicrophone final : public app::Microphone {
 public:
  static constexpr size_t kRingSamples = 1024;  // 64 ms at 16 kHz; a power of two

  void init();
  size_t read(std::span<int16_t> out, uint32_t& clip_id) override;
  uint32_t sample_rate_hz() const override { return 16000; }
  MicrophoneStats stats() const;

  void on_rx_interrupt();  // from the UART1 RX interrupt handler

 private:
  void take_pending();
  void resume_rx();

  volatile int16_t ring_[kRingSamples];  // static storage: zeroed in .bss
  volatile uint32_t head_ = 0;           // samples written by the interrupt
  volatile uint32_t tail_ = 0;           // samples read by the main loop
  volatile uint32_t ring_full_ = 0;
  volatile uint32_t overruns_ = 0;
  volatile uint32_t last_sample_ms_ = 0;
  volatile bool masked_ = false;
  volatile bool have_low_byte_ = false;  // a sample's first (low) byte arrived, its second not yet
  volatile uint8_t low_byte_ = 0;
};

UartMicrophone& uart1_microphone();

}  // namespace tinyedge::mps2
