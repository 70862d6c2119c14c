// The single writer, whatever the backend. Every mutation goes through one thread that drains a
// queue into batched transactions (bounded by event count and by a short linger time), so a
// burst of uplinks costs one durable commit. After each commit the backend reports the Acks that
// became true, and only then may they be sent: an Ack always means durable.
//
// A batch the backend cannot commit for a reason that passes (a full disk, a database server out
// of reach) is kept, unacknowledged, and retried with a growing pause until it goes through or
// the store stops; meanwhile new results are refused (not acked, so their nodes resend them).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "gateway/core/log.h"
#include "gateway/core/metrics.h"
#include "gateway/store/store.h"

namespace tinyedge::gateway {

class BatchWriter : public Store {
 public:
  BatchWriter(StoreOptions options, Metrics& metrics, Logger& log);
  ~BatchWriter() override;  // subclasses call stop() in theirs: the writer uses their members

  void start(CommitHandler on_commit) override;
  bool submit(StoreItem item) override;
  void flush() override;
  void stop() override;
  const StoreOptions& options() const override { return options_; }
  bool disk_full() const override { return disk_full_.load(std::memory_order_relaxed); }
  bool unavailable() const override { return unavailable_.load(std::memory_order_relaxed); }

 protected:
  enum class Outcome { kCommitted, kDiskFull, kUnavailable, kFailed };
  // One transaction for the whole batch; on success returns kCommitted and fills `notices` with
  // the Acks it made true. On failure nothing of the batch may stay written.
  virtual Outcome try_write(std::vector<StoreItem>& batch, std::vector<AckNotice>& notices) = 0;
  // Runs between retries of a batch that could not be committed (give disk space back, reconnect).
  virtual void before_retry(Outcome /*last*/) {}
  // One bounded pass of retention; true if more work is pending right away.
  virtual bool retention_pass() = 0;
  // For try_write: flips the flag and tells whether this failure is the first of its run (log it then).
  bool enter_disk_full();
  bool enter_unavailable();
  bool stopping() const;

  StoreOptions options_;
  Metrics& metrics_;
  Logger& log_;

 private:
  void run();
  bool commit(std::vector<StoreItem>& batch);  // retries while the failure passes; false if dropped

  std::atomic<bool> disk_full_{false};
  std::atomic<bool> unavailable_{false};
  int64_t next_retention_ms_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::deque<StoreItem> queue_;
  uint64_t submitted_ = 0;
  uint64_t done_ = 0;
  bool stopping_ = false;
  bool started_ = false;
  std::thread writer_;
  CommitHandler on_commit_;
};

}  // namespace tinyedge::gateway
