// Highest contiguous durable seq per (node, boot). Seqs that arrive above a gap are remembered
// as intervals until the gap fills; a gap that stays open longer than `gap_timeout_ms` while
// later results keep arriving is given up on (the node dropped those results from its ring
// buffer), so one lost result cannot stall a node's acks forever.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace tinyedge::gateway {

class AckTracker {
 public:
  AckTracker() = default;
  explicit AckTracker(uint32_t through) : through_(through) {}

  // Marks [first, first + count) durable. Returns true if through() moved.
  bool add(uint32_t first, uint32_t count, int64_t now_ms);
  // Skips the oldest gap if it has been open for at least gap_timeout_ms; returns seqs skipped.
  uint32_t skip_stale_gap(int64_t now_ms, int64_t gap_timeout_ms);

  uint32_t through() const { return through_; }
  bool has_gap() const { return !above_.empty(); }
  bool contains(uint32_t seq) const;
  // Moves through() up to at least `through` (e.g. past a gap given up on), absorbing what follows.
  void raise_to(uint32_t through);
  int64_t gap_since_ms() const { return gap_since_ms_; }

  // The intervals above through() as text, "a-b,c-d" (start inclusive, end exclusive), for a
  // backend that keeps the tracker in a row; from_text() reads it back (malformed pieces skipped).
  std::string above_text() const;
  static AckTracker from_text(uint32_t through, std::string_view above, int64_t gap_since_ms);

 private:
  void absorb();

  uint32_t through_ = 0;
  std::map<uint32_t, uint32_t> above_;  // start -> end (exclusive), all > through_ + 1
  int64_t gap_since_ms_ = 0;
};

}  // namespace tinyedge::gateway
