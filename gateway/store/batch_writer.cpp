#include "gateway/store/batch_writer.h"

#include <algorithm>
#include <chrono>

namespace tinyedge::gateway {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

BatchWriter::BatchWriter(StoreOptions options, Metrics& metrics, Logger& log)
    : options_(std::move(options)), metrics_(metrics), log_(log) {}

BatchWriter::~BatchWriter() { stop(); }

void BatchWriter::start(CommitHandler on_commit) {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  on_commit_ = std::move(on_commit);
  writer_ = std::thread([this] { run(); });
}

bool BatchWriter::submit(StoreItem item) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    // With no room on disk (or no database), queued resends would only pile up in memory: refuse
    // them (unacked) until the writer's retried batch goes through.
    if (std::holds_alternative<ResultsItem>(item)) {
      if (disk_full()) {
        metrics_.dropped_disk_full.add();
        return false;
      }
      if (unavailable()) {
        metrics_.dropped_store_unavailable.add();
        return false;
      }
    }
    if (queue_.size() >= options_.queue_max_items) {
      metrics_.dropped_queue_full.add();
      return false;
    }
    queue_.push_back(std::move(item));
    ++submitted_;
    metrics_.queue_depth.set(queue_.size());
  }
  wake_.notify_one();
  return true;
}

void BatchWriter::flush() {
  std::unique_lock lock(mutex_);
  const uint64_t target = submitted_;
  if (!started_) return;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return done_ >= target || !writer_.joinable(); });
}

void BatchWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  flushed_.notify_all();
}

bool BatchWriter::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

bool BatchWriter::enter_disk_full() {
  metrics_.store_disk_full_errors.add();
  if (disk_full_.exchange(true)) return false;
  metrics_.store_disk_full.set(1);
  return true;
}

bool BatchWriter::enter_unavailable() {
  if (unavailable_.exchange(true)) return false;
  metrics_.store_unavailable.set(1);
  return true;
}

void BatchWriter::run() {
  std::vector<StoreItem> batch;
  int64_t backoff_ms = 0;
  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(mutex_);
      const auto retention_due = [&] { return steady_ms() >= next_retention_ms_; };
      wake_.wait_for(lock, std::chrono::milliseconds(options_.retention.interval_ms),
                     [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty() && stopping_) break;
      // Linger briefly for more so that a trickle of uplinks shares one durable commit.
      if (!queue_.empty() && queue_.size() < 64 && options_.batch_linger_ms > 0 && !stopping_) {
        wake_.wait_for(lock, std::chrono::milliseconds(options_.batch_linger_ms),
                       [&] { return queue_.size() >= 64 || stopping_; });
      }
      size_t events = 0;
      while (!queue_.empty() && events < options_.batch_max_events) {
        if (const auto* results = std::get_if<ResultsItem>(&queue_.front()))
          events += results->results.size();
        else
          ++events;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      metrics_.queue_depth.set(queue_.size());
      if (batch.empty() && !retention_due()) continue;
    }
    if (!batch.empty()) {
      const bool ok = commit(batch);
      {
        std::lock_guard lock(mutex_);
        done_ += batch.size();
      }
      flushed_.notify_all();
      if (!ok) {
        backoff_ms = std::min<int64_t>(backoff_ms ? backoff_ms * 2 : 50, 2000);
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [&] { return stopping_; });
        continue;
      }
      backoff_ms = 0;
    }
    if (steady_ms() >= next_retention_ms_) {
      bool more = false;
      try {
        more = retention_pass();
      } catch (const std::exception& error) {
        metrics_.store_errors.add();
        log_.error("store", "retention pass failed", {{"error", error.what()}});
      }
      next_retention_ms_ = steady_ms() + (more ? 0 : options_.retention.interval_ms);
    }
  }
  std::lock_guard lock(mutex_);
  flushed_.notify_all();
}

bool BatchWriter::commit(std::vector<StoreItem>& batch) {
  int64_t wait_ms = 0;
  uint64_t attempts = 0;
  const int64_t failing_since = steady_ms();
  for (;;) {
    ++attempts;
    std::vector<AckNotice> notices;
    const Outcome outcome = try_write(batch, notices);
    if (outcome == Outcome::kCommitted) {
      if (disk_full_.exchange(false)) {
        metrics_.store_disk_full.set(0);
        log_.info("store", "disk has room again; ingest resumed",
                  {{"attempts", attempts}, {"full_ms", steady_ms() - failing_since}, {"items", batch.size()}});
      }
      if (unavailable_.exchange(false)) {
        metrics_.store_unavailable.set(0);
        log_.info("store", "database reachable again; ingest resumed",
                  {{"attempts", attempts}, {"unavailable_ms", steady_ms() - failing_since}, {"items", batch.size()}});
      }
      if (!notices.empty() && on_commit_) on_commit_(std::move(notices));
      return true;
    }
    if (outcome == Outcome::kFailed) return false;
    {
      std::unique_lock lock(mutex_);
      if (stopping_) {
        log_.warn("store",
                  outcome == Outcome::kDiskFull
                      ? "stopping with the disk full: batch not stored and not acked, nodes will resend"
                      : "stopping with the database out of reach: batch not stored and not acked, nodes will resend",
                  {{"items", batch.size()}});
        return false;
      }
      wait_ms = std::min<int64_t>(wait_ms ? wait_ms * 2 : 50, 1000);
      wake_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stopping_; });
    }
    before_retry(outcome);
  }
}

}  // namespace tinyedge::gateway
