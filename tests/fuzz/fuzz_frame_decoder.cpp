// Any byte stream, in fragments of any size: the decoder never reads or writes outside its
// buffer, every frame it accepts carries a valid CRC, and re-encoding it decodes to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "protocol/crc16.h"
#include "protocol/frame.h"

using namespace tinyedge::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  StaticFrameDecoder<256> decoder;
  for (size_t i = 0; i < size; ++i) {
    if (decoder.push(data[i]) != FrameStatus::kOk) continue;
    const auto payload = decoder.payload();
    if (payload.size() > 256) std::abort();
    std::vector<uint8_t> wire(max_encoded_frame_size(payload.size()));
    const auto encoded = encode_frame(payload, wire);
    if (encoded.status != FrameStatus::kOk) std::abort();
    const std::vector<uint8_t> copy(payload.begin(), payload.end());
    StaticFrameDecoder<256> again;
    FrameStatus last = FrameStatus::kNeedMore;
    for (size_t j = 0; j < encoded.size; ++j) last = again.push(wire[j]);
    if (last != FrameStatus::kOk) std::abort();
    if (std::vector<uint8_t>(again.payload().begin(), again.payload().end()) != copy) std::abort();
  }
  return 0;
}
