// The SQLite backend of the write path: one connection owned by the writer thread (see
// batch_writer.h), WAL mode, one transaction per batch with multi-row INSERT OR IGNORE into an
// events table whose UNIQUE (node_ref, boot_id, seq) refuses duplicates.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/store/ack_tracker.h"
#include "gateway/store/batch_writer.h"
#include "gateway/store/sqlite/database.h"

namespace tinyedge::gateway {

class SqliteStore final : public BatchWriter {
 public:
  // Opens (creating if needed) and migrates the database. Throws sql::Error naming the problem.
  SqliteStore(StoreOptions options, Metrics& metrics, Logger& log);
  ~SqliteStore() override;

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
  Outcome try_write(std::vector<StoreItem>& batch, std::vector<AckNotice>& notices) override;
  void before_retry(Outcome last) override;
  bool retention_pass() override;
  void write_batch(std::vector<StoreItem>& batch, std::vector<AckNotice>& notices);
  bool is_disk_full(const sql::Error& error) const;
  void bound_wal();      // after a commit: measure the log, checkpoint it if it outgrew its bound
  void give_back_wal();  // on a full disk: checkpoint everything and truncate the log to zero
  void apply(const ResultsItem& item, std::map<AckKey, std::string>& acked, size_t& stored, size_t& dups);
  void apply(const HelloItem& item);
  void apply(const TelemetryItem& item);
  void apply(const OtaStatusItem& item);
  void apply(const StateItem& item);
  void apply(const GroupsItem& item);
  void apply(const EnrollmentItem& item);
  int64_t node_ref(const std::string& node_id, int64_t now_ms);
  void touch(int64_t ref, int64_t seen_ms, uint32_t boot_id, const std::string& bearer);
  AckTracker& tracker(const AckKey& key);
  void forget_trackers();
  sql::Statement& insert_events(size_t rows);
  void retire_acks(int64_t chunk);

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
  std::string wal_path_;
};

}  // namespace tinyedge::gateway
