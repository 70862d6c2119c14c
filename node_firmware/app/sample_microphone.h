// A microphone that plays a recording kept in memory (a sample in flash on the M4 node), at the
// pace of the platform clock: what a real microphone's DMA would have delivered by now. Once, or
// over and over.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "node_firmware/app/microphone.h"
#include "node_firmware/app/platform.h"

namespace tinyedge::app {

class SampleMicrophone final : public Microphone {
 public:
  SampleMicrophone(std::span<const int16_t> samples, uint32_t sample_rate_hz, Platform& platform, bool loop)
      : samples_(samples), rate_(sample_rate_hz), platform_(platform), loop_(loop) {}

  size_t read(std::span<int16_t> out, uint32_t& clip_id) override;
  uint32_t sample_rate_hz() const override { return rate_; }
  bool finished() const { return finished_; }

 private:
  std::span<const int16_t> samples_;
  uint32_t rate_;
  Platform& platform_;
  bool loop_;
  bool started_ = false;
  bool finished_ = false;
  uint32_t start_ms_ = 0;
  uint64_t delivered_ = 0;  // samples handed out since the start (over every repetition)
  uint32_t plays_ = 0;      // completed repetitions, for the clip id
};

}  // namespace tinyedge::app
