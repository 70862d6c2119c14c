// Bearer over a byte stream (UART, a BLE-UART bridge): every uplink goes out as one COBS frame
// from protocol/frame.h, and downlink frames are reassembled from whatever bytes arrive.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "node_firmware/app/bearer.h"
#include "protocol/frame.h"

namespace tinyedge::app {

class ByteStream {
 public:
  virtual void write(std::span<const uint8_t> bytes) = 0;
  // Next received byte; false when none is waiting.
  virtual bool read(uint8_t& byte) = 0;

 protected:
  ~ByteStream() = default;
};

class FrameBearer final : public Bearer {
 public:
  // `frame_buffer` holds one encoded uplink frame; `decoder` owns the reassembly buffer.
  FrameBearer(ByteStream& stream, std::span<uint8_t> frame_buffer, protocol::FrameDecoder& decoder)
      : stream_(stream), frame_(frame_buffer), decoder_(decoder) {}

  // A serial line has no connection state: the gateway on the other end acks what it hears.
  bool connected() override { return true; }
  bool send(std::span<const uint8_t> uplink) override;
  size_t receive(std::span<uint8_t> out) override;
  // Zero-copy: the payload stays in the decoder's reassembly buffer.
  std::span<const uint8_t> receive_view(std::span<uint8_t> scratch) override;

  uint32_t bad_frames() const { return bad_frames_; }

 private:
  ByteStream& stream_;
  std::span<uint8_t> frame_;
  protocol::FrameDecoder& decoder_;
  uint32_t bad_frames_ = 0;
};

}  // namespace tinyedge::app
