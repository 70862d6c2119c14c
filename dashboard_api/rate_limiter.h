// Per-client token bucket: `rate` requests per second sustained, `burst` at once. Clients are keyed
// by remote address; idle buckets are swept so a scan of many addresses cannot grow the map forever.
#pragma once
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tinyedge::dashboard {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // rate <= 0 disables limiting.
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}
  bool allow(const std::string& client, Clock::time_point now = Clock::now());
  size_t tracked_clients() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  double rate_, burst_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  Clock::time_point last_sweep_{};
};

}  // namespace tinyedge::dashboard
