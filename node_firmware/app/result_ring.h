// Results waiting for the gateway's Ack. Bounded: when full, the oldest result is dropped (and
// counted) so a long outage costs old results, never the node's memory or its newest data.
//
// Entries [0, sent) from the oldest have been sent at least once and wait for an Ack; the rest
// have not been sent yet. An Ack removes every entry with seq <= through_seq; rewind() marks all
// entries unsent again so they are resent (after a reconnect or an ack timeout).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "node_firmware/app/top_k.h"

namespace tinyedge::app {

inline constexpr size_t kMaxTopK = 5;  // top-1 + 4 runners-up, the protocol's bound

struct StoredResult {
  uint32_t seq = 0;
  uint32_t at_ms = 0;       // when the inference ran
  uint32_t latency_us = 0;
  uint32_t sample_id = 0;
  uint32_t model_id = 0;    // the model that produced it: an update may come before it is sent
  uint32_t model_version = 0;
  uint8_t count = 0;        // classes in `classes`
  ClassScore classes[kMaxTopK] = {};
};

class ResultRing {
 public:
  explicit ResultRing(std::span<StoredResult> storage) : slots_(storage) {}

  // Appends a result; returns false if the oldest one had to be dropped to make room.
  bool push(const StoredResult& result);
  // Removes every result with seq <= through_seq; returns how many.
  size_t ack(uint32_t through_seq);
  // Marks every stored result unsent again.
  void rewind() { sent_ = 0; }

  size_t size() const { return count_; }
  size_t capacity() const { return slots_.size(); }
  size_t sent() const { return sent_; }
  size_t unsent() const { return count_ - sent_; }
  uint64_t dropped() const { return dropped_; }

  // i-th result from the oldest (i < size()).
  const StoredResult& at(size_t i) const { return slots_[(head_ + i) % slots_.size()]; }
  // The i-th not yet sent result (i < unsent()).
  const StoredResult& unsent_at(size_t i) const { return at(sent_ + i); }
  // Marks the next n unsent results as sent.
  void mark_sent(size_t n) { sent_ = (sent_ + n > count_) ? count_ : sent_ + n; }

 private:
  std::span<StoredResult> slots_;
  size_t head_ = 0;
  size_t count_ = 0;
  size_t sent_ = 0;
  uint64_t dropped_ = 0;
};

template <size_t kCapacity>
class StaticResultRing : public ResultRing {
 public:
  StaticResultRing() : ResultRing(storage_) {}

 private:
  StoredResult storage_[kCapacity];
};

}  // namespace tinyedge::app
