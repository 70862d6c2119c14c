// The on-node step for sensor windows: samples (one value per axis) are quantised with the model's
// input scale and zero point into a ring of the last `window` samples, and every `stride` samples
// once it is full the window (oldest sample first, axes interleaved: the model's [1, window, 1,
// axes] input) is ready. The trainer cuts its training windows the same way. Freestanding: no heap,
// the caller gives the storage.
#pragma once
#include <cstdint>
#include <span>

namespace tinyedge::motion {

enum class MotionStatus : uint8_t { kOk, kBadShape, kStorageTooSmall };
const char* to_string(MotionStatus status);

// q = round(v / scale) + zero_point, saturated to int8.
void quantize_sample(std::span<const float> values, float scale, int32_t zero_point, std::span<int8_t> out);

class MotionWindow {
 public:
  // `storage` holds at least window * axes bytes; stride in 1..window.
  [[nodiscard]] MotionStatus init(std::span<int8_t> storage, uint32_t window, uint32_t axes, uint32_t stride);
  // One quantised sample of `axes` values. True when a window is ready to copy.
  bool push(std::span<const int8_t> sample);
  // The last `window` samples, oldest first, into `out` (window * axes bytes).
  void copy_window(std::span<int8_t> out) const;

 private:
  std::span<int8_t> ring_;
  uint32_t window_ = 0, axes_ = 0, stride_ = 1;
  uint32_t next_ = 0;    // ring slot the next sample goes to
  uint32_t filled_ = 0;  // samples held, up to window_
  uint32_t since_ = 0;   // samples since the last ready window
  bool primed_ = false;  // the first window has been ready
};

}  // namespace tinyedge::motion
