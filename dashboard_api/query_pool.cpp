#include "dashboard_api/query_pool.h"

namespace tinyedge::dashboard {

QueryPool::QueryPool(Opener opener, size_t size) : opener_(std::move(opener)), size_(size ? size : 1) {}

QueryPool::Lease QueryPool::borrow() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (!idle_.empty()) {
      auto q = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(q));
    }
    if (opened_ < size_) {
      ++opened_;
      lock.unlock();
      try {
        return Lease(*this, opener_());
      } catch (...) {
        std::lock_guard relock(mutex_);
        --opened_;
        throw;
      }
    }
    returned_.wait(lock);
  }
}

void QueryPool::give_back(std::unique_ptr<gateway::Query> q) {
  if (!q) return;
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(q));
  }
  returned_.notify_one();
}

}  // namespace tinyedge::dashboard
