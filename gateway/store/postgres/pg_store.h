// The PostgreSQL backend of the write path: one connection owned by the writer thread (see
// batch_writer.h); one transaction per batch whose results go in by COPY into the day-partitioned
// events table, with the minutes of label statistics it adds to (query.h, kRollupMs).
//
// Several gateways may write at once. Each (node, boot) has a row in acks holding every seq
// stored for it. A batch first copies in the results its boots' records (read without a lock)
// lack, holding no row another gateway writes; then it locks those records (in key order, so two
// gateways never wait on each other in a circle), deletes its copies of seqs another gateway
// committed in between, writes the new records and commits: two gateways overlap their COPYs and
// wait on each other only for a few statements and the commit, a result delivered to both is
// stored once, and the Acks sent after the commit say only what is durable. A lost connection
// keeps the batch unacknowledged and retried.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/store/ack_tracker.h"
#include "gateway/store/batch_writer.h"
#include "gateway/store/postgres/connection.h"

namespace tinyedge::gateway {

class PgStore final : public BatchWriter {
 public:
  // Connects and migrates. Throws pg::Error naming the problem (wrong URL, password, database).
  PgStore(StoreOptions options, Metrics& metrics, Logger& log);
  ~PgStore() override;

 private:
  struct Key {
    int64_t node_ref;
    uint32_t boot_id;
    bool operator<(const Key& o) const { return node_ref != o.node_ref ? node_ref < o.node_ref : boot_id < o.boot_id; }
  };
  // A result copied in before the lock, with what finds it again and its rollup key.
  struct StagedEvent {
    Key key;
    uint32_t seq;
    int64_t at_ms;
    int64_t label;
    int64_t score;
    int64_t model_id;
    int64_t model_version;
    uint32_t latency_us;
  };
  struct Staged {
    std::vector<StagedEvent> events;  // copied in, in batch order
    size_t duplicates = 0;            // refused before the copy (already in the committed record)
    int64_t copied = 0;
    size_t taken_back = 0;  // copies deleted again: another gateway stored them first
  };
  struct Touch {
    int64_t last_seen_ms = 0;
    uint32_t boot_id = 0;
    std::string bearer;
  };

  Outcome try_write(std::vector<StoreItem>& batch, std::vector<AckNotice>& notices) override;
  void before_retry(Outcome last) override;
  bool retention_pass() override;
  void write_batch(std::vector<StoreItem>& batch, std::vector<AckNotice>& notices);
  void release_claim() noexcept;
  void resolve_nodes(const std::vector<StoreItem>& batch);
  void ensure_partitions(const std::vector<StoreItem>& batch);
  pg::Params boot_keys(const std::vector<const ResultsItem*>& items) const;
  Staged stage_results(const std::vector<const ResultsItem*>& items, const std::optional<pg::Result>& records);
  pg::Result lock_records(const std::vector<const ResultsItem*>& items, const Staged& staged);
  void settle_results(const std::vector<const ResultsItem*>& items, Staged& staged, const pg::Result& locked,
                      std::vector<AckNotice>& notices, pg::Pipeline& pipeline);
  void take_back(const std::vector<StagedEvent>& events, pg::Pipeline& pipeline);
  void write_rollup(const std::vector<StagedEvent>& events, int64_t sign, pg::Pipeline& pipeline);
  void write_latency_rollup(const std::vector<StagedEvent>& events, pg::Pipeline& pipeline);
  void flush_touches(pg::Pipeline& pipeline);
  void apply(const HelloItem& item);
  void apply(const TelemetryItem& item);
  void apply(const OtaStatusItem& item);
  void apply(const StateItem& item);
  void apply(const GroupsItem& item);
  void apply(const EnrollmentItem& item);
  void touch(int64_t ref, int64_t seen_ms, uint32_t boot_id, const std::string& bearer);
  // Rows that know no model take the one the nodes' results name.
  void learn_models(const std::vector<const ResultsItem*>& items, pg::Pipeline& pipeline);
  int64_t ref(const std::string& node_id) const;

  std::unique_ptr<pg::Connection> db_;
  std::unordered_map<std::string, int64_t> node_refs_;
  std::set<int64_t> partitions_;      // days (at_ms / kPartitionMs) whose partition exists
  std::map<Key, int64_t> gap_since_;  // when each boot's oldest open gap opened, for the gap timeout
  std::map<int64_t, Touch> touched_;
  int64_t writer_ = 0;    // this gateway's rows of the rollups (label_minutes.writer, latency_minutes.writer)
  bool claimed_ = false;  // ingest_claims holds a row of this connection (ingest_claims.h)
};

}  // namespace tinyedge::gateway
