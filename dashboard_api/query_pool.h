// Read connections for the handler threads: the gateway's Query serialises calls on one
// connection, so each worker borrows its own; WAL lets them all read while the writer commits.
#pragma once
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "gateway/store/query.h"

namespace tinyedge::dashboard {

class QueryPool {
 public:
  using Opener = std::function<std::unique_ptr<gateway::Query>()>;
  QueryPool(Opener opener, size_t size);

  class Lease {
   public:
    Lease(QueryPool& pool, std::unique_ptr<gateway::Query> q) : pool_(pool), q_(std::move(q)) {}
    ~Lease() { pool_.give_back(std::move(q_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    gateway::Query* operator->() { return q_.get(); }
    gateway::Query& operator*() { return *q_; }

   private:
    QueryPool& pool_;
    std::unique_ptr<gateway::Query> q_;
  };

  // Blocks while every connection is lent out; opens connections lazily up to `size`.
  Lease borrow();

 private:
  void give_back(std::unique_ptr<gateway::Query> q);
  Opener opener_;
  size_t size_;
  size_t opened_ = 0;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<gateway::Query>> idle_;
};

}  // namespace tinyedge::dashboard
