#include "node_firmware/motion/motion_window.h"

namespace tinyedge::motion {

const char* to_string(MotionStatus status) {
  switch (status) {
    case MotionStatus::kOk:
      return "ok";
    case MotionStatus::kBadShape:
      return "window, axes and stride must be positive, stride at most the window";
    case MotionStatus::kStorageTooSmall:
      return "storage is smaller than window x axes";
  }
  return "unknown motion status";
}

void quantize_sample(std::span<const float> values, float scale, int32_t zero_point, std::span<int8_t> out) {
  const auto n = values.size() < out.size() ? values.size() : out.size();
  for (std::size_t i = 0; i < n; ++i) {
    const float r = values[i] / scale;
    // Round half away from zero without libm.
    int32_t q = static_cast<int32_t>(r >= 0 ? r + 0.5f : r - 0.5f) + zero_point;
    if (r > 1e6f) q = 127;
    if (r < -1e6f) q = -128;
    out[i] = static_cast<int8_t>(q < -128 ? -128 : (q > 127 ? 127 : q));
  }
}

MotionStatus MotionWindow::init(std::span<int8_t> storage, uint32_t window, uint32_t axes, uint32_t stride) {
  if (window == 0 || axes == 0 || stride == 0 || stride > window) return MotionStatus::kBadShape;
  if (storage.size() < static_cast<std::size_t>(window) * axes) return MotionStatus::kStorageTooSmall;
  ring_ = storage.first(static_cast<std::size_t>(window) * axes);
  window_ = window;
  axes_ = axes;
  stride_ = stride;
  next_ = filled_ = since_ = 0;
  primed_ = false;
  return MotionStatus::kOk;
}

bool MotionWindow::push(std::span<const int8_t> sample) {
  if (window_ == 0) return false;
  for (uint32_t a = 0; a < axes_; ++a) ring_[next_ * axes_ + a] = a < sample.size() ? sample[a] : int8_t{0};
  next_ = (next_ + 1) % window_;
  if (filled_ < window_) ++filled_;
  if (filled_ < window_) return false;
  // The first window is ready when the ring fills; then one every `stride` samples.
  if (!primed_ || ++since_ >= stride_) {
    primed_ = true;
    since_ = 0;
    return true;
  }
  return false;
}

void MotionWindow::copy_window(std::span<int8_t> out) const {
  for (uint32_t i = 0; i < window_; ++i) {
    const uint32_t slot = (next_ + i) % window_;  // oldest first
    for (uint32_t a = 0; a < axes_; ++a)
      if (static_cast<std::size_t>(i) * axes_ + a < out.size()) out[i * axes_ + a] = ring_[slot * axes_ + a];
  }
}

}  // namespace tinyedge::motion
