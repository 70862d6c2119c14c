#include "node_firmware/audio/loudest_windows.h"

namespace tinyedge::audio {
namespace {

uint64_t energy(std::span<const int16_t> samples) {
  uint64_t sum = 0;
  for (int16_t s : samples) sum += static_cast<uint64_t>(int32_t{s} * int32_t{s});
  return sum;
}

bool overlaps(size_t start, size_t window, std::span<const size_t> chosen) {
  for (size_t c : chosen)
    if (start < c + window && c < start + window) return true;
  return false;
}

}  // namespace

size_t loudest_windows(std::span<const int16_t> samples, size_t window, size_t hop, uint32_t floor_ratio,
                       std::span<size_t> starts) {
  if (window == 0 || hop == 0 || samples.size() < window) return 0;
  const size_t last = (samples.size() - window) / hop * hop;
  uint64_t floor = 0;
  size_t found = 0;
  for (; found < starts.size(); ++found) {
    bool any = false;
    uint64_t best = 0;
    size_t best_start = 0;
    // Slide: the next window's energy is this one's minus the hop that leaves plus the hop that comes.
    uint64_t e = energy(samples.first(window));
    for (size_t start = 0;; start += hop) {
      if (!overlaps(start, window, starts.first(found)) && (!any || e > best)) {
        any = true;
        best = e;
        best_start = start;
      }
      if (start + hop > last) break;
      e -= energy(samples.subspan(start, hop));
      e += energy(samples.subspan(start + window, hop));
    }
    if (!any || best < floor) break;
    if (found == 0 && floor_ratio != 0) floor = best / floor_ratio;
    starts[found] = best_start;
  }
  return found;
}

}  // namespace tinyedge::audio
