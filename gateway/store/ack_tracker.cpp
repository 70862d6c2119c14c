#include "gateway/store/ack_tracker.h"

#include <algorithm>
#include <charconv>

namespace tinyedge::gateway {

bool AckTracker::add(uint32_t first, uint32_t count, int64_t now_ms) {
  if (count == 0) return false;
  const uint64_t end64 = static_cast<uint64_t>(first) + count;  // exclusive
  const uint32_t end = static_cast<uint32_t>(std::min<uint64_t>(end64, UINT32_MAX));
  const uint32_t before = through_;
  if (end <= through_ + 1u) return false;  // all already covered
  uint32_t start = std::max(first, through_ + 1);
  if (start == through_ + 1) {
    through_ = end - 1;
  } else {
    if (above_.empty()) gap_since_ms_ = now_ms;
    // Merge with overlapping or adjacent intervals.
    uint32_t new_end = end;
    auto it = above_.lower_bound(start);
    if (it != above_.begin()) {
      auto prev = std::prev(it);
      if (prev->second >= start) {
        start = prev->first;
        new_end = std::max(new_end, prev->second);
        it = above_.erase(prev);
      }
    }
    while (it != above_.end() && it->first <= new_end) {
      new_end = std::max(new_end, it->second);
      it = above_.erase(it);
    }
    above_[start] = new_end;
  }
  absorb();
  if (through_ != before && !above_.empty()) gap_since_ms_ = now_ms;
  return through_ != before;
}

void AckTracker::absorb() {
  while (!above_.empty() && above_.begin()->first <= through_ + 1) {
    through_ = std::max(through_, above_.begin()->second - 1);
    above_.erase(above_.begin());
  }
}

uint32_t AckTracker::skip_stale_gap(int64_t now_ms, int64_t gap_timeout_ms) {
  if (above_.empty() || gap_timeout_ms <= 0 || now_ms - gap_since_ms_ < gap_timeout_ms) return 0;
  const uint32_t skipped = above_.begin()->first - through_ - 1;
  through_ = above_.begin()->first - 1;
  absorb();
  gap_since_ms_ = now_ms;
  return skipped;
}

bool AckTracker::contains(uint32_t seq) const {
  if (seq <= through_) return true;
  auto it = above_.upper_bound(seq);
  if (it == above_.begin()) return false;
  --it;
  return seq >= it->first && seq < it->second;
}

void AckTracker::raise_to(uint32_t through) {
  if (through <= through_) return;
  through_ = through;
  while (!above_.empty() && above_.begin()->second <= through_ + 1) above_.erase(above_.begin());
  absorb();
}

std::string AckTracker::above_text() const {
  std::string text;
  for (const auto& [start, end] : above_) {
    if (!text.empty()) text += ',';
    text += std::to_string(start) + '-' + std::to_string(end);
  }
  return text;
}

AckTracker AckTracker::from_text(uint32_t through, std::string_view above, int64_t gap_since_ms) {
  AckTracker tracker(through);
  size_t pos = 0;
  while (pos < above.size()) {
    size_t end = above.find(',', pos);
    if (end == std::string_view::npos) end = above.size();
    const std::string_view piece = above.substr(pos, end - pos);
    const size_t dash = piece.find('-');
    uint32_t a = 0, b = 0;
    if (dash != std::string_view::npos &&
        std::from_chars(piece.data(), piece.data() + dash, a).ptr == piece.data() + dash &&
        std::from_chars(piece.data() + dash + 1, piece.data() + piece.size(), b).ptr == piece.data() + piece.size() &&
        b > a) {
      tracker.add(a, b - a, gap_since_ms);
    }
    pos = end + 1;
  }
  tracker.gap_since_ms_ = gap_since_ms;
  return tracker;
}

}  // namespace tinyedge::gateway
