// The single writer. Every mutation of the database goes through one thread that drains a queue
// into batched transactions (bounded by event count and by a short linger time), so SQLite never
// sees two writers and a burst of uplinks costs one fsync. After each commit the writer reports
// the Acks that became true, and only then may they be sent: an Ack always means durable.
#pragma once
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gateway/core/log.h"
#include "gateway/core/metrics.h"
#include "gateway/store/ack_tracker.h"
#include "gateway/store/migrations.h"
#include "gateway/store/records.h"
#include "gateway/store/sqlite.h"
#include "gateway/store/store_check.h"

namespace tinyedge::gateway {

struct RetentionOptions {
  int64_t max_age_ms = 0;        // events/telemetry/ota_status older than this go; 0 = keep forever
  int64_t max_events = 0;        // oldest events go beyond this many; 0 = no limit
  int64_t max_db_bytes = 0;      // oldest events go while live pages exceed this; 0 = no limit
  int64_t chunk_rows = 2000;     // rows deleted per pass: retention never blocks ingest for long
  int64_t interval_ms = 1000;    // time between passes while nothing is over the limits
};

struct StoreOptions {
  std::string path;                      // the SQLite file
  size_t batch_max_events = 16384;       // results per transaction at most
  int64_t batch_linger_ms = 5;           // wait this long for more work before committing a small batch
  std::string synchronous = "FULL";      // FULL: an Ack survives power loss; NORMAL: survives a crash
  size_t queue_max_items = 200000;       // beyond this, uplinks are refused (not acked, so resent)
  int64_t ack_gap_timeout_ms = 60000;    // give up on a missing seq after this long (0 = never)
  int64_t cache_kib = 65536;             // SQLite page cache of the writer connection
  // The write-ahead log is checkpointed into the database once it holds this much and cut back to
  // it afterwards, so it never takes more than about this (plus one batch) of the disk: a full disk
  // recovers once a few MB are given back.
  int64_t wal_max_bytes = 4 * 1024 * 1024;
  RetentionOptions retention;
  // kBounded starts in milliseconds whatever the event count; kFull reads every page first.
  StartupCheck startup_check = StartupCheck::kBounded;
  // Runs on the writer's connection after migrations: extra PRAGMAs (e.g. max_page_count to cap
  // the file) or extension setup. Tests use it to provoke SQLITE_FULL / SQLITE_READONLY.
  std::function<void(sql::Database&)> on_open;
  // Runs on the writer's connection before each retry of a batch the disk had no room for. Tests
  // use it to give room back (max_page_count) from the thread that owns the connection.
  std::function<void(sql::Database&)> on_disk_full_retry;
};

class Store {
 public:
  using CommitHandler = std::function<void(std::vector<AckNotice>)>;

  // Opens (creating if needed) and migrates the database. Throws sql::Error naming the problem.
  Store(StoreOptions options, Metrics& metrics, Logger& log);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Starts the writer thread. `on_commit` runs on the writer thread after every commit that
  // touched results; hand its work to your own executor.
  void start(CommitHandler on_commit);
  // Queues an item; false if the store is stopped or the queue is full.
  bool submit(StoreItem item);
  // Blocks until everything submitted before the call has been committed (or has failed). While
  // the disk is full that is until there is room again or stop() is called.
  void flush();
  // Drains the queue, commits, stops the writer. Idempotent.
  void stop();

  const StoreOptions& options() const { return options_; }
  // True from a commit that failed for want of disk space until the next one that succeeds. In
  // between the writer keeps the failed batch (unacknowledged) and retries it, and refuses new
  // results (not acked, so their nodes resend them later).
  bool disk_full() const { return disk_full_.load(std::memory_order_relaxed); }

 private:
  struct AckKey {
    int64_t node_ref;
    uint32_t boot_id;
    bool operator<(const AckKey& o) const {
      return node_ref != o.node_ref ? node_ref < o.node_ref : boot_id < o.boot_id;
    }
  };
  struct NodeTouch {
    int64_t last_seen_ms = 0;
    uint32_t boot_id = 0;
    std::string bearer;
  };

  void open();
  void run();
  enum class Outcome { kCommitted, kDiskFull, kFailed };
  bool commit(std::vector<StoreItem>& batch);  // retries while the disk is full; false if dropped
  Outcome try_write(std::vector<StoreItem>& batch);
  void write_batch(std::vector<StoreItem>& batch);
  bool is_disk_full(const sql::Error& error) const;
  void bound_wal();      // after a commit: measure the log, checkpoint it if it outgrew its bound
  void give_back_wal();  // on a full disk: checkpoint everything and truncate the log to zero
  void apply(const ResultsItem& item, std::map<AckKey, std::string>& acked, size_t& stored, size_t& dups);
  void apply(const HelloItem& item);
  void apply(const TelemetryItem& item);
  void apply(const OtaStatusItem& item);
  void apply(const StateItem& item);
  void apply(const GroupsItem& item);
  int64_t node_ref(const std::string& node_id, int64_t now_ms);
  void touch(int64_t ref, int64_t seen_ms, uint32_t boot_id, const std::string& bearer);
  AckTracker& tracker(const AckKey& key);
  void forget_trackers();
  sql::Statement& insert_events(size_t rows);
  bool retention_pass();  // true if more work is pending right away
  void retire_acks(int64_t chunk);

  StoreOptions options_;
  Metrics& metrics_;
  Logger& log_;
  std::unique_ptr<sql::Database> db_;
  struct Statements;
  std::unique_ptr<Statements> st_;
  static constexpr size_t kRowsPerInsert = 16;
  std::array<std::unique_ptr<sql::Statement>, kRowsPerInsert + 1> insert_events_;

  // Writer-thread state.
  std::unordered_map<std::string, int64_t> node_refs_;
  std::map<AckKey, AckTracker> trackers_;
  // Boots whose trackers stay in memory, per node, most recently used first (see tracker()).
  static constexpr size_t kTrackedBootsPerNode = 4;
  std::unordered_map<int64_t, std::vector<uint32_t>> recent_boots_;
  AckKey acks_cursor_{-1, 0};  // where the next retention pass goes on scanning the acks table
  std::unordered_map<int64_t, NodeTouch> touched_;
  int64_t event_count_ = 0;
  int64_t next_retention_ms_ = 0;
  std::string wal_path_;
  std::atomic<bool> disk_full_{false};

  std::mutex mutex_;
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

int64_t now_ms();

}  // namespace tinyedge::gateway
