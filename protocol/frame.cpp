#include "protocol/frame.h"

#include "protocol/crc16.h"

namespace tinyedge::protocol {

const char* to_string(FrameStatus status) {
  switch (status) {
    case FrameStatus::kOk: return "ok";
    case FrameStatus::kNeedMore: return "incomplete frame";
    case FrameStatus::kOutputTooSmall: return "output buffer too small for the encoded frame";
    case FrameStatus::kPayloadTooLarge: return "payload larger than the maximum frame payload";
    case FrameStatus::kOverflow: return "frame longer than the reassembly buffer";
    case FrameStatus::kBadEncoding: return "invalid COBS encoding";
    case FrameStatus::kTooShort: return "frame shorter than its CRC";
    case FrameStatus::kBadCrc: return "CRC mismatch";
  }
  return "unknown frame status";
}

namespace {

// COBS writer over a bounded output; `ok` turns false instead of writing past the end.
class CobsWriter {
 public:
  explicit CobsWriter(std::span<uint8_t> out) : out_(out) { open_block(); }

  void put(uint8_t byte) {
    if (byte == 0) {
      close_block();
      open_block();
      return;
    }
    emit(byte);
    if (++code_ == 0xFF) {
      close_block();
      open_block();
    }
  }

  size_t finish() {
    close_block();
    emit(0);
    return pos_;
  }

  bool ok() const { return ok_; }

 private:
  void open_block() {
    code_pos_ = pos_;
    code_ = 1;
    emit(0);  // placeholder for the block's code byte
  }
  void close_block() {
    if (code_pos_ < out_.size()) out_[code_pos_] = code_;
  }
  void emit(uint8_t byte) {
    if (pos_ >= out_.size()) {
      ok_ = false;
      return;
    }
    out_[pos_++] = byte;
  }

  std::span<uint8_t> out_;
  size_t pos_ = 0;
  size_t code_pos_ = 0;
  uint8_t code_ = 1;
  bool ok_ = true;
};

}  // namespace

EncodedFrame encode_frame(std::span<const uint8_t> payload, std::span<uint8_t> out) {
  if (payload.size() > kMaxFramePayload) return {FrameStatus::kPayloadTooLarge, 0};
  if (out.size() < max_encoded_frame_size(payload.size())) return {FrameStatus::kOutputTooSmall, 0};
  const uint16_t crc = crc16_ccitt(payload);
  CobsWriter writer(out);
  for (uint8_t byte : payload) writer.put(byte);
  writer.put(static_cast<uint8_t>(crc >> 8));
  writer.put(static_cast<uint8_t>(crc & 0xFF));
  // A trailing block that ended exactly at 254 data bytes opened an empty one; COBS allows that.
  const size_t size = writer.finish();
  return {writer.ok() ? FrameStatus::kOk : FrameStatus::kOutputTooSmall, writer.ok() ? size : 0};
}

FrameStatus FrameDecoder::push(uint8_t byte) {
  payload_ = {};
  if (byte != 0) {
    if (fill_ < buffer_.size()) {
      buffer_[fill_++] = byte;
    } else {
      overflowed_ = true;
    }
    return FrameStatus::kNeedMore;
  }
  FrameStatus status = FrameStatus::kNeedMore;
  if (overflowed_) {
    status = FrameStatus::kOverflow;
  } else if (fill_ > 0) {
    status = finish_frame();
  }
  fill_ = 0;
  overflowed_ = false;
  return status;
}

// Decodes the COBS block in place: the output never gets ahead of the input.
FrameStatus FrameDecoder::finish_frame() {
  size_t read = 0;
  size_t write = 0;
  while (read < fill_) {
    const uint8_t code = buffer_[read++];
    const size_t data = code - 1u;
    if (data > fill_ - read) return FrameStatus::kBadEncoding;
    for (size_t i = 0; i < data; ++i) buffer_[write++] = buffer_[read++];
    if (code != 0xFF && read < fill_) buffer_[write++] = 0;
  }
  if (write < kFrameCrcBytes) return FrameStatus::kTooShort;
  const size_t payload_size = write - kFrameCrcBytes;
  const auto payload = std::span<const uint8_t>(buffer_.data(), payload_size);
  const uint16_t expected = static_cast<uint16_t>(buffer_[payload_size] << 8 | buffer_[payload_size + 1]);
  if (crc16_ccitt(payload) != expected) return FrameStatus::kBadCrc;
  payload_ = payload;
  return FrameStatus::kOk;
}

void FrameDecoder::reset() {
  fill_ = 0;
  overflowed_ = false;
  payload_ = {};
}

std::span<const uint8_t> FrameFragmenter::next() {
  const size_t n = rest_.size() < mtu_ ? rest_.size() : mtu_;
  const auto piece = rest_.first(n);
  rest_ = rest_.subspan(n);
  return piece;
}

}  // namespace tinyedge::protocol
