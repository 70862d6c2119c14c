#include "node_firmware/app/frame_bearer.h"

#include <cstring>

namespace tinyedge::app {

bool FrameBearer::send(std::span<const uint8_t> uplink) {
  const protocol::EncodedFrame frame = protocol::encode_frame(uplink, frame_);
  if (frame.status != protocol::FrameStatus::kOk) return false;
  stream_.write(frame_.first(frame.size));
  return true;
}

std::span<const uint8_t> FrameBearer::receive_view(std::span<uint8_t>) {
  uint8_t byte = 0;
  while (stream_.read(byte)) {
    const protocol::FrameStatus status = decoder_.push(byte);
    if (status == protocol::FrameStatus::kNeedMore) continue;
    if (status != protocol::FrameStatus::kOk) {
      ++bad_frames_;
      continue;
    }
    if (decoder_.payload().empty()) continue;  // back-to-back delimiters
    return decoder_.payload();
  }
  return {};
}

size_t FrameBearer::receive(std::span<uint8_t> out) {
  for (;;) {
    const std::span<const uint8_t> payload = receive_view({});
    if (payload.empty()) return 0;
    if (payload.size() > out.size()) {
      ++bad_frames_;
      continue;
    }
    std::memcpy(out.data(), payload.data(), payload.size());
    return payload.size();
  }
}

}  // namespace tinyedge::app
