#include "node_firmware/app/sample_microphone.h"

namespace tinyedge::app {

size_t SampleMicrophone::read(std::span<int16_t> out, uint32_t& clip_id) {
  if (finished_ || out.empty() || samples_.empty()) return 0;
  const uint32_t now = platform_.now_ms();
  if (!started_) {
    started_ = true;
    start_ms_ = now;
  }
  const uint64_t due = uint64_t{now - start_ms_} * rate_ / 1000;
  if (due <= delivered_) return 0;
  const size_t offset = static_cast<size_t>(delivered_ % samples_.size());
  size_t n = samples_.size() - offset;  // one repetition at a time: the clip id is per repetition
  if (n > out.size()) n = out.size();
  if (n > due - delivered_) n = static_cast<size_t>(due - delivered_);
  for (size_t i = 0; i < n; ++i) out[i] = samples_[offset + i];
  clip_id = plays_ + 1;
  delivered_ += n;
  if (offset + n == samples_.size()) {
    ++plays_;
    if (!loop_) finished_ = true;
  }
  return n;
}

}  // namespace tinyedge::app
