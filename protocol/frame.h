// Byte-stream framing for UART, BLE-UART bridges and GATT notifications.
//
// On the wire a frame is COBS(payload || CRC-16 big-endian) followed by one 0x00 delimiter, so
// a receiver that joins mid-stream resynchronises at the next zero. Links with a small MTU send
// the encoded stream in MTU-sized fragments (FrameFragmenter); the receiver feeds whatever bytes
// arrive into a FrameDecoder, whose reassembly buffer is the caller's and bounded.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace tinyedge::protocol {

enum class FrameStatus : uint8_t {
  kOk,
  kNeedMore,          // decoder: no complete frame yet
  kOutputTooSmall,    // encoder: output span cannot hold the encoded frame
  kPayloadTooLarge,   // encoder: payload exceeds kMaxFramePayload
  kOverflow,          // decoder: frame longer than the reassembly buffer; dropped until the next delimiter
  kBadEncoding,       // decoder: COBS code points past the end of the frame
  kTooShort,          // decoder: fewer bytes than a CRC
  kBadCrc,            // decoder: CRC mismatch
};

const char* to_string(FrameStatus status);

inline constexpr size_t kFrameCrcBytes = 2;
inline constexpr size_t kMaxFramePayload = 4096;

// Worst-case encoded size of a payload, delimiter included.
constexpr size_t max_encoded_frame_size(size_t payload_bytes) {
  const size_t body = payload_bytes + kFrameCrcBytes;
  return body + body / 254 + 1 + 1;
}

struct EncodedFrame {
  FrameStatus status;
  size_t size;  // bytes written to the output, delimiter included
};

EncodedFrame encode_frame(std::span<const uint8_t> payload, std::span<uint8_t> out);

// Streaming decoder. Feed bytes one at a time; on kOk, payload() is the frame's payload and
// stays valid until the next push(). Errors report one bad frame; the decoder then carries on
// with the next one, so a corrupt frame never stalls the link.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::span<uint8_t> reassembly_buffer) : buffer_(reassembly_buffer) {}

  FrameStatus push(uint8_t byte);
  std::span<const uint8_t> payload() const { return payload_; }
  void reset();

 private:
  FrameStatus finish_frame();

  std::span<uint8_t> buffer_;
  size_t fill_ = 0;
  bool overflowed_ = false;
  std::span<const uint8_t> payload_;
};

template <size_t kMaxPayload>
class StaticFrameDecoder : public FrameDecoder {
 public:
  StaticFrameDecoder() : FrameDecoder(storage_) {}

 private:
  uint8_t storage_[max_encoded_frame_size(kMaxPayload)];
};

// Splits an encoded frame (or any stretch of the encoded stream) into pieces of at most `mtu`.
class FrameFragmenter {
 public:
  FrameFragmenter(std::span<const uint8_t> encoded, size_t mtu) : rest_(encoded), mtu_(mtu == 0 ? 1 : mtu) {}

  bool done() const { return rest_.empty(); }
  std::span<const uint8_t> next();

 private:
  std::span<const uint8_t> rest_;
  size_t mtu_;
};

}  // namespace tinyedge::protocol
