#include "node_firmware/app/result_ring.h"

namespace tinyedge::app {

bool ResultRing::push(const StoredResult& result) {
  if (slots_.empty()) {
    ++dropped_;
    return false;
  }
  bool kept_all = true;
  if (count_ == slots_.size()) {
    head_ = (head_ + 1) % slots_.size();
    --count_;
    if (sent_ > 0) --sent_;
    ++dropped_;
    kept_all = false;
  }
  slots_[(head_ + count_) % slots_.size()] = result;
  ++count_;
  return kept_all;
}

size_t ResultRing::ack(uint32_t through_seq) {
  size_t removed = 0;
  // Seqs are increasing from the head; the signed difference keeps this right across a wrap.
  while (count_ > 0 && static_cast<int32_t>(at(0).seq - through_seq) <= 0) {
    head_ = (head_ + 1) % slots_.size();
    --count_;
    ++removed;
  }
  sent_ = sent_ > removed ? sent_ - removed : 0;
  return removed;
}

}  // namespace tinyedge::app
