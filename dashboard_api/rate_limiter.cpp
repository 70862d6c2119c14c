#include "dashboard_api/rate_limiter.h"

#include <algorithm>

namespace tinyedge::dashboard {

bool RateLimiter::allow(const std::string& client, Clock::time_point now) {
  if (rate_ <= 0) return true;
  std::lock_guard lock(mutex_);
  if (now - last_sweep_ > std::chrono::seconds(60) || buckets_.size() > 100'000) {
    // A bucket that has refilled completely carries no state worth keeping.
    std::erase_if(buckets_, [&](const auto& kv) {
      return kv.second.tokens + std::chrono::duration<double>(now - kv.second.last).count() * rate_ >= burst_;
    });
    last_sweep_ = now;
  }
  auto [it, inserted] = buckets_.try_emplace(client, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!inserted) {
    b.tokens = std::min(burst_, b.tokens + std::chrono::duration<double>(now - b.last).count() * rate_);
    b.last = now;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

size_t RateLimiter::tracked_clients() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace tinyedge::dashboard
