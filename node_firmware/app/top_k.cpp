#include "node_firmware/app/top_k.h"

namespace tinyedge::app {

uint8_t quantised_score(int8_t q, int32_t zero_point) {
  const int32_t s = static_cast<int32_t>(q) - zero_point;
  if (s < 0) return 0;
  if (s > 255) return 255;
  return static_cast<uint8_t>(s);
}

size_t top_k(std::span<const int8_t> output, int32_t zero_point, std::span<ClassScore> out) {
  size_t n = 0;
  const size_t k = out.size() < output.size() ? out.size() : output.size();
  if (k == 0) return 0;
  // Insertion into a k-long sorted list: k is at most a handful, outputs a few hundred values.
  for (size_t i = 0; i < output.size() && i <= 0xFFFF; ++i) {
    const int8_t v = output[i];
    size_t pos = n;
    while (pos > 0 && output[out[pos - 1].label] < v) --pos;
    if (pos >= k) continue;
    const size_t last = n < k ? n : k - 1;
    for (size_t j = last; j > pos; --j) out[j] = out[j - 1];
    out[pos] = ClassScore{static_cast<uint16_t>(i), 0};
    if (n < k) ++n;
  }
  for (size_t j = 0; j < n; ++j) out[j].score = quantised_score(output[out[j].label], zero_point);
  return n;
}

}  // namespace tinyedge::app
