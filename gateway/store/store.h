// Events in: what the gateway needs of storage on its write path. Ingest submits uplinks; the
// store writes them in batches (one transaction per batch), refuses a result it already holds
// (node, boot, seq) and reports the Acks that became true only after the commit that made them
// durable. The backend (SQLite file, PostgreSQL server) is chosen by StoreOptions::backend, see
// backend.h; nothing outside gateway/store knows which one runs.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gateway/store/records.h"

namespace tinyedge::gateway {

namespace sql {
class Database;  // the SQLite connection (store/sqlite/database.h), for test hooks only
}

struct RetentionOptions {
  int64_t max_age_ms = 0;      // events/telemetry/ota_status older than this go; 0 = keep forever
  int64_t max_events = 0;      // oldest events go beyond this many; 0 = no limit
  int64_t max_db_bytes = 0;    // oldest events go while live pages exceed this; 0 = no limit
  int64_t chunk_rows = 2000;   // rows deleted per pass: retention never blocks ingest for long
  int64_t interval_ms = 1000;  // time between passes while nothing is over the limits
};

// What the gateway checks of an existing store before it serves it.
enum class StartupCheck {
  // Bounded by fleet size, not by event count: the schema parses and holds the gateway's tables,
  // every small control table (nodes, groups, acks, models, rollouts...) passes integrity_check,
  // and the newest rows of the append-only logs (events, telemetry, ota_status: where the last
  // writes before a crash landed) read back. Damage deeper in a log surfaces later on the query
  // that touches it.
  kBounded,
  // The whole file is checked: O(file size), for an operator who suspects damage.
  kFull,
};

struct StoreOptions {
  std::string backend = "sqlite";      // "sqlite" (embedded, one gateway) or "postgres" (shared)
  std::string url;                     // postgres: postgresql://user:password@host:port/db?...
  std::string path;                    // sqlite: the database file
  size_t batch_max_events = 16384;     // results per transaction at most
  int64_t batch_linger_ms = 5;         // wait this long for more work before committing a small batch
  std::string synchronous = "FULL";    // sqlite. FULL: an Ack survives power loss; NORMAL: survives a crash
  size_t queue_max_items = 200000;     // beyond this, uplinks are refused (not acked, so resent)
  int64_t ack_gap_timeout_ms = 60000;  // give up on a missing seq after this long (0 = never)
  int64_t cache_kib = 65536;           // sqlite: page cache of the writer connection
  // sqlite: the write-ahead log is checkpointed into the database once it holds this much and cut
  // back to it afterwards, so it never takes more than about this (plus one batch) of the disk: a
  // full disk recovers once a few MB are given back.
  int64_t wal_max_bytes = 4 * 1024 * 1024;
  RetentionOptions retention;
  // kBounded starts in milliseconds whatever the event count; kFull reads every page first.
  StartupCheck startup_check = StartupCheck::kBounded;
  // sqlite, tests: runs on the writer's connection after migrations: extra PRAGMAs (e.g.
  // max_page_count to cap the file). Tests use it to provoke SQLITE_FULL / SQLITE_READONLY.
  std::function<void(sql::Database&)> on_open;
  // sqlite, tests: runs on the writer's connection before each retry of a batch the disk had no
  // room for. Tests use it to give room back (max_page_count) from the thread that owns the connection.
  std::function<void(sql::Database&)> on_disk_full_retry;
};

class Store {
 public:
  using CommitHandler = std::function<void(std::vector<AckNotice>)>;

  virtual ~Store() = default;

  // Starts the writer. `on_commit` runs on the writer thread after every commit that touched
  // results; hand its work to your own executor.
  virtual void start(CommitHandler on_commit) = 0;
  // Queues an item; false if the store is stopped, full, or cannot write (not acked: resent).
  virtual bool submit(StoreItem item) = 0;
  // Blocks until everything submitted before the call has been committed (or has failed). While
  // the store cannot write that is until it can again or stop() is called.
  virtual void flush() = 0;
  // Drains the queue, commits, stops the writer. Idempotent.
  virtual void stop() = 0;

  virtual const StoreOptions& options() const = 0;
  // True from a commit that failed for want of disk space until the next one that succeeds. In
  // between the writer keeps the failed batch (unacknowledged) and retries it, and refuses new
  // results (not acked, so their nodes resend them later).
  virtual bool disk_full() const = 0;
  // True while the database cannot be reached (a server backend): as with a full disk, the
  // failed batch is kept unacknowledged and retried, new results are refused.
  virtual bool unavailable() const { return false; }
};

int64_t now_ms();

}  // namespace tinyedge::gateway
