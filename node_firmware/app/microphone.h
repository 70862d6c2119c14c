// Where audio comes from: a microphone's DMA buffer, a sample in flash, a replayed WAV stream.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace tinyedge::app {

class Microphone {
 public:
  // Copies up to out.size() of the samples heard since the last call (mono int16 at
  // sample_rate_hz()) into `out` and returns how many; 0 when none are waiting. `clip_id` is the
  // id of the replayed recording the samples belong to (0 for live audio), so a gateway can join
  // detections to what was really said.
  virtual size_t read(std::span<int16_t> out, uint32_t& clip_id) = 0;
  virtual uint32_t sample_rate_hz() const = 0;

 protected:
  ~Microphone() = default;
};

}  // namespace tinyedge::app
