#include "gateway/store/postgres/pg_store.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>
#include <tuple>

#include "gateway/store/postgres/ingest_claims.h"
#include "gateway/store/postgres/migrations.h"
#include "gateway/store/query.h"
#include "tinyedge.pb.h"

namespace tinyedge::gateway {

namespace {

std::string encode_runners_up(const std::vector<std::pair<uint32_t, uint32_t>>& runners_up) {
  std::string text;
  for (const auto& [label, score] : runners_up) {
    if (!text.empty()) text += ',';
    text += std::to_string(label) + ':' + std::to_string(score);
  }
  return text;
}

// Conflicts between gateways (deadlock, serialization) are retried at once this often.
constexpr int kConflictRetries = 5;

// The boots' records as last committed ($1 node refs, $2 boot ids), read without a lock.
constexpr const char* kReadRecords =
    "SELECT a.node_ref, a.boot_id, a.through_seq, a.above FROM acks a "
    "JOIN unnest($1::bigint[], $2::bigint[]) AS k(n, b) ON a.node_ref = k.n AND a.boot_id = k.b";

}  // namespace

PgStore::PgStore(StoreOptions options, Metrics& metrics, Logger& log) : BatchWriter(std::move(options), metrics, log) {
  const auto& r = options_.retention;
  if (r.max_events > 0 || r.max_db_bytes > 0) {
    throw pg::Error("", false,
                    "retention.max_events and retention.max_db_mb apply to the sqlite backend only: PostgreSQL "
                    "drops whole days of events by retention.max_age_days");
  }
  if (options_.url.empty()) throw pg::Error("", false, "store.url: required for the postgres backend");
  db_ = std::make_unique<pg::Connection>(options_.url);
  // Any value another live gateway is unlikely to hold (a clash only makes the two wait on rows).
  writer_ = static_cast<int64_t>(std::random_device{}() & 0x7fffffff) + 1;
  // An Ack must survive the server's crash: whatever the server's default, commits wait for the
  // write-ahead log to reach its disk.
  db_->exec("SET synchronous_commit = on");
  const int applied = pg::migrate(*db_);
  if (applied > 0) log_.info("store", "schema migrated", {{"url", pg::redact_url(options_.url)}, {"applied", applied}});
  db_->exec(pg::kCleanDeadClaims);  // a killed gateway's claim would hold the readers back
}

PgStore::~PgStore() { stop(); }

BatchWriter::Outcome PgStore::try_write(std::vector<StoreItem>& batch, std::vector<AckNotice>& notices) {
  for (int attempt = 1;; ++attempt) {
    try {
      notices.clear();
      write_batch(batch, notices);
      return Outcome::kCommitted;
    } catch (const pg::Error& error) {
      metrics_.store_errors.add();
      release_claim();
      // The rolled-back transaction may have created nodes: forget what was cached from it.
      node_refs_.clear();
      touched_.clear();
      if (error.conflict() && attempt < kConflictRetries) continue;
      if (error.connection_lost()) {
        if (enter_unavailable()) {
          log_.error("store",
                     "database out of reach: batch kept unacknowledged and retried until it answers; results refused",
                     {{"error", error.what()}, {"items", batch.size()}, {"url", pg::redact_url(options_.url)}});
        }
        return Outcome::kUnavailable;
      }
      log_.error("store", "transaction failed; batch dropped, nodes will resend",
                 {{"error", error.what()}, {"sqlstate", error.sqlstate()}, {"items", batch.size()}});
      return Outcome::kFailed;
    } catch (const std::exception& error) {
      metrics_.store_errors.add();
      release_claim();
      node_refs_.clear();
      touched_.clear();
      log_.error("store", "batch failed; dropped, nodes will resend",
                 {{"error", error.what()}, {"items", batch.size()}});
      return Outcome::kFailed;
    }
  }
}

void PgStore::before_retry(Outcome) {
  try {
    db_->reconnect();
    db_->exec("SET synchronous_commit = on");
  } catch (const pg::Error& error) {
    log_.debug("store", "database still out of reach", {{"error", error.what()}});
  }
}

void PgStore::write_batch(std::vector<StoreItem>& batch, std::vector<AckNotice>& notices) {
  const auto started = std::chrono::steady_clock::now();
  if (!db_->ok()) db_->reconnect();
  ensure_partitions(batch);
  std::vector<const ResultsItem*> results;
  for (const auto& item : batch) {
    if (const auto* r = std::get_if<ResultsItem>(&item)) results.push_back(r);
  }
  // The statements go out in four round trips (pipelines and the COPY), not one each: on a busy
  // machine every round trip waits for the server and then the client to be scheduled, and the
  // boots' acks rows stay locked (other gateways waiting) from the lock to the commit.
  pg::Transaction transaction(*db_, pg::Transaction::Begun{});  // rolls back whatever follows BEGIN
  std::optional<pg::Result> records;
  {
    pg::Pipeline first(*db_);
    // Results take event ids: claim them first, in an autocommit statement of its own (the Sync
    // commits it), so that readers tailing the log stop below them until this batch commits
    // (ingest_claims.h says why that is enough).
    if (!results.empty()) {
      claimed_ = true;
      first.add(pg::kClaimIds);
      first.sync();
    }
    first.add("BEGIN");
    const bool known = std::all_of(batch.begin(), batch.end(), [&](const StoreItem& item) {
      return std::visit([&](const auto& value) { return node_refs_.count(value.node_id) > 0; }, item);
    });
    const size_t read = known && !results.empty() ? first.add(kReadRecords, boot_keys(results)) : SIZE_MAX;
    auto answers = first.run();
    if (read != SIZE_MAX) records.emplace(std::move(answers[read]));
  }
  resolve_nodes(batch);
  // The long part first, while this transaction holds no row another gateway writes: the events
  // (this writer's own). Then the rows gateways share (acks, nodes), each locked in key order, for
  // two round trips and the commit.
  if (!results.empty() && !records) records.emplace(db_->query(kReadRecords, boot_keys(results)));
  Staged staged = stage_results(results, records);
  for (auto& item : batch) {
    std::visit(
        [&](auto& value) {
          if constexpr (std::is_same_v<std::decay_t<decltype(value)>, ResultsItem>) {
            touch(ref(value.node_id), value.received_ms, value.boot_id, value.bearer);
          } else {
            apply(value);
          }
        },
        item);
  }
  auto locked = lock_records(results, staged);
  pg::Pipeline last(*db_);
  settle_results(results, staged, locked, notices, last);
  flush_touches(last);
  learn_models(results, last);
  if (claimed_) last.add(pg::kReleaseClaim);  // gone exactly when the events appear
  last.add("COMMIT");
  last.run();
  transaction.committed();
  claimed_ = false;
  if (!results.empty()) {
    const size_t total = staged.duplicates + staged.events.size();
    const int64_t stored_count = staged.copied - static_cast<int64_t>(staged.taken_back);
    metrics_.events_stored.add(static_cast<uint64_t>(stored_count));
    metrics_.duplicates.add(total - static_cast<size_t>(stored_count));
    metrics_.batch_events_total.add(total);
    metrics_.batch_events_max.max(total);
  }
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  metrics_.batches.add();
  metrics_.store_commit_us_total.add(static_cast<uint64_t>(us));
  metrics_.store_commit_us_max.max(static_cast<uint64_t>(us));
}

// After a failed batch (rolled back, and its delete of the claim with it): else the claim holds the
// readers back until this gateway's next batch. If the connection is lost, the backend is gone and
// the next claim of any writer deletes its claim.
void PgStore::release_claim() noexcept {
  if (!claimed_) return;
  try {
    if (db_->ok()) db_->exec(pg::kReleaseClaim);
    claimed_ = false;
  } catch (const std::exception&) {
    // Out of reach: kept set, so the next batch's claim (an upsert) replaces it.
  }
}

// Every node the batch names gets its row (created if new) and its id, in two statements.
void PgStore::resolve_nodes(const std::vector<StoreItem>& batch) {
  std::vector<std::optional<std::string>> names;
  std::vector<int64_t> seen;
  for (const auto& item : batch) {
    std::visit(
        [&](const auto& value) {
          if (node_refs_.count(value.node_id)) return;
          int64_t at = now_ms();
          if constexpr (!std::is_same_v<std::decay_t<decltype(value)>, GroupsItem>) at = value.received_ms;
          names.emplace_back(value.node_id);
          seen.push_back(at);
        },
        item);
  }
  if (names.empty()) return;
  db_->query(
      "INSERT INTO nodes(node_id, first_seen_ms, last_seen_ms) "
      "SELECT n, t, t FROM unnest($1::text[], $2::bigint[]) AS u(n, t) ORDER BY n ON CONFLICT (node_id) DO NOTHING",
      pg::Params().add(pg::text_array(names)).add(pg::int_array(seen)));
  const auto rows = db_->query("SELECT id, node_id FROM nodes WHERE node_id = ANY($1::text[])",
                               pg::Params().add(pg::text_array(names)));
  for (int i = 0; i < rows.rows(); ++i) node_refs_[rows.text(i, 1)] = rows.int64(i, 0);
}

int64_t PgStore::ref(const std::string& node_id) const {
  auto it = node_refs_.find(node_id);
  if (it == node_refs_.end()) throw pg::Error("", false, "node row vanished: " + node_id);
  return it->second;
}

// One partition per day of inference time, created (outside the batch's transaction) before the
// first result of that day goes in; another gateway creating the same one at once is no error.
void PgStore::ensure_partitions(const std::vector<StoreItem>& batch) {
  std::set<int64_t> days;
  for (const auto& item : batch) {
    if (const auto* results = std::get_if<ResultsItem>(&item)) {
      for (const auto& r : results->results) {
        const int64_t day = (results->received_ms - r.age_ms) / pg::kPartitionMs;
        if (!partitions_.count(day)) days.insert(day);
      }
    }
  }
  for (const int64_t day : days) {
    const std::string name = "events_d" + std::to_string(day);
    try {
      db_->exec("CREATE TABLE IF NOT EXISTS " + name + " PARTITION OF events FOR VALUES FROM (" +
                std::to_string(day * pg::kPartitionMs) + ") TO (" + std::to_string((day + 1) * pg::kPartitionMs) + ")");
    } catch (const pg::Error& error) {
      // 42P07 duplicate table / 23505 duplicate type row: another gateway made it just now.
      if (error.connection_lost() || (error.sqlstate() != "42P07" && error.sqlstate() != "23505")) throw;
    }
    partitions_.insert(day);
  }
}

// Copies in the batch's results that the boots' records (as last committed, read without a lock)
// lack. COPY, not INSERT ... SELECT FROM unnest(twelve arrays): the server
// parses no arrays and routes rows straight to the day's partition, a third less of its time per
// row (README #18 gives the figures).
PgStore::Staged PgStore::stage_results(const std::vector<const ResultsItem*>& items,
                                       const std::optional<pg::Result>& rows) {
  Staged staged;
  if (items.empty()) return staged;
  std::map<Key, AckTracker> seen;
  for (const auto* item : items) seen.emplace(Key{ref(item->node_id), item->boot_id}, AckTracker{});
  for (int i = 0; i < rows->rows(); ++i) {
    seen[Key{rows->int64(i, 0), static_cast<uint32_t>(rows->int64(i, 1))}] =
        AckTracker::from_text(static_cast<uint32_t>(rows->int64(i, 2)), rows->text(i, 3), 0);
  }
  // Grouped by boot (node, boot), not interleaved as they arrived: each node's rows then follow
  // one another into events_by_node_id, at one place in the index that stays in the CPU's cache,
  // instead of a row at each node's place in turn. The costliest of the three indexes on the write
  // path (in a 320k-row COPY of 8 nodes' interleaved rows, 70 of 245 CPU ticks) costs about half as
  // much. Within a boot, arrival order is kept: of two copies of a seq in one batch the first to
  // arrive is the one stored, as on SQLite and across batches (sorting by seq too let a later resend
  // win).
  std::vector<const ResultsItem*> ordered(items);
  std::stable_sort(ordered.begin(), ordered.end(), [this](const ResultsItem* a, const ResultsItem* b) {
    return std::tuple(ref(a->node_id), a->boot_id) < std::tuple(ref(b->node_id), b->boot_id);
  });
  // One COPY per day's partition, straight into it (ensure_partitions() made it): not through
  // events, whose statement trigger with a transition table (migration 7, the latency rollup)
  // makes PostgreSQL insert the rows of a partitioned table one by one, keep them all in a
  // tuplestore for the trigger and route each to its partition. A statement trigger of events
  // does not fire for a COPY into a partition, so this writer adds the batch's latency counts
  // itself (write_latency_rollup); it takes a third off the server's time per row.
  std::map<int64_t, std::string> copies;  // day -> rows in COPY text format
  const auto field = [](std::string& copy, int64_t value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    copy.append(digits, end);
    copy += '\t';
  };
  for (const auto* item : ordered) {
    const Key key{ref(item->node_id), item->boot_id};
    auto& stored = seen.at(key);
    for (size_t i = 0; i < item->results.size(); ++i) {
      const uint32_t s = item->first_seq + static_cast<uint32_t>(i);
      if (stored.contains(s)) {
        ++staged.duplicates;
        continue;
      }
      stored.add(s, 1, 0);
      const auto& result = item->results[i];
      const int64_t at = item->received_ms - result.age_ms;
      staged.events.push_back(
          {key, s, at, result.label, result.score, item->model_id, item->model_version, result.latency_us});
      std::string& copy = copies[at / pg::kPartitionMs];  // the day ensure_partitions() computed
      for (const int64_t value :
           {key.node_ref, int64_t{item->boot_id}, int64_t{s}, at, item->received_ms, int64_t{item->model_id},
            int64_t{item->model_version}, int64_t{result.label}, int64_t{result.score}}) {
        field(copy, value);
      }
      if (result.runners_up.empty()) {
        copy += "\\N";
      } else {
        pg::copy_text(copy, encode_runners_up(result.runners_up));
      }
      copy += '\t';
      field(copy, result.latency_us);
      field(copy, result.sample_id);
      copy.back() = '\n';
    }
  }
  for (const auto& [day, copy] : copies) {
    staged.copied += db_->copy_in("COPY events_d" + std::to_string(day) +
                                      "(node_ref, boot_id, seq, at_ms, received_ms, model_id, model_version, label, "
                                      "score, runners_up, latency_us, sample_id) FROM STDIN",
                                  copy);
  }
  return staged;
}

// $1 node refs, $2 boot ids of the batch's boots, in key order.
pg::Params PgStore::boot_keys(const std::vector<const ResultsItem*>& items) const {
  std::set<Key> keys;
  for (const auto* item : items) keys.insert(Key{ref(item->node_id), item->boot_id});
  std::vector<int64_t> nodes, boots;
  for (const auto& key : keys) {
    nodes.push_back(key.node_ref);
    boots.push_back(key.boot_id);
  }
  return std::move(pg::Params().add(pg::int_array(nodes)).add(pg::int_array(boots)));
}

// In one round trip: this writer's rollup rows for the copied events (its own rows: nobody waits
// on them), then the batch's boots' records, created if new and locked in key order (every
// gateway locks them in this order) until the commit.
pg::Result PgStore::lock_records(const std::vector<const ResultsItem*>& items, const Staged& staged) {
  if (items.empty()) return pg::Result(nullptr);
  pg::Pipeline pipeline(*db_);
  if (!staged.events.empty()) {
    write_rollup(staged.events, 1, pipeline);
    write_latency_rollup(staged.events, pipeline);
  }
  const auto keys = boot_keys(items);
  pipeline.add(
      "INSERT INTO acks(node_ref, boot_id) SELECT * FROM unnest($1::bigint[], $2::bigint[]) ORDER BY 1, 2 "
      "ON CONFLICT DO NOTHING",
      keys);
  const size_t locked = pipeline.add(
      "SELECT a.node_ref, a.boot_id, a.through_seq, a.above, a.acked_seq FROM acks a "
      "JOIN unnest($1::bigint[], $2::bigint[]) AS k(n, b) ON a.node_ref = k.n AND a.boot_id = k.b "
      "ORDER BY 1, 2 FOR UPDATE OF a",
      keys);
  return std::move(pipeline.run()[locked]);
}

// Takes back the copies of seqs another gateway committed since stage_results() read the records
// (the record, locked until the commit, is what keeps a result from being stored twice), and
// queues the new records and works out what each boot's Ack says.
void PgStore::settle_results(const std::vector<const ResultsItem*>& items, Staged& staged, const pg::Result& rows,
                             std::vector<AckNotice>& notices, pg::Pipeline& pipeline) {
  if (items.empty()) return;
  std::map<Key, std::string> boots;  // node ids, for the log and the Acks
  for (const auto* item : items) boots.emplace(Key{ref(item->node_id), item->boot_id}, item->node_id);
  const int64_t now = now_ms();
  struct Record {
    AckTracker stored;
    uint32_t acked;
  };
  std::map<Key, Record> records;
  for (int i = 0; i < rows.rows(); ++i) {
    const Key key{rows.int64(i, 0), static_cast<uint32_t>(rows.int64(i, 1))};
    auto since = gap_since_.find(key);
    records.emplace(key, Record{AckTracker::from_text(static_cast<uint32_t>(rows.int64(i, 2)), rows.text(i, 3),
                                                      since == gap_since_.end() ? now : since->second),
                                static_cast<uint32_t>(rows.int64(i, 4))});
  }
  std::vector<StagedEvent> taken_back;
  for (const auto& event : staged.events) {
    auto& stored = records.at(event.key).stored;
    if (stored.contains(event.seq)) {
      taken_back.push_back(event);
    } else {
      stored.add(event.seq, 1, now);
    }
  }
  if (!taken_back.empty()) take_back(taken_back, pipeline);
  staged.taken_back = taken_back.size();
  // The new record of every boot, and what its Ack says.
  std::vector<int64_t> through, acked;
  std::vector<std::optional<std::string>> above;
  for (auto& [key, record] : records) {
    AckTracker ack =
        AckTracker::from_text(record.stored.through(), record.stored.above_text(), record.stored.gap_since_ms());
    ack.raise_to(record.acked);
    if (const uint32_t skipped = ack.skip_stale_gap(now, options_.ack_gap_timeout_ms)) {
      metrics_.ack_gaps_skipped.add(skipped);
      log_.warn(
          "store", "gave up waiting for missing results",
          {{"node", boots.at(key)}, {"boot_id", key.boot_id}, {"skipped", skipped}, {"through_seq", ack.through()}});
    }
    if (ack.has_gap()) {
      gap_since_[key] = ack.gap_since_ms();
    } else {
      gap_since_.erase(key);
    }
    through.push_back(record.stored.through());
    above.emplace_back(record.stored.above_text());
    acked.push_back(ack.through());
    if (ack.through() > 0) notices.push_back({boots.at(key), key.boot_id, ack.through()});
  }
  // The records, like boot_keys(), in key order.
  pg::Params p = boot_keys(items);
  p.add(pg::int_array(through)).add(pg::text_array(above)).add(pg::int_array(acked));
  pipeline.add(
      "UPDATE acks a SET through_seq = k.t, above = k.a, acked_seq = k.c "
      "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[]) AS k(n, b, t, a, c) "
      "WHERE a.node_ref = k.n AND a.boot_id = k.b",
      p);
  // A gap can stay open for ever (the node dropped those results): keep the clock map bounded.
  if (gap_since_.size() > 100000) gap_since_.clear();
}

// Deletes this transaction's own copies of results another gateway stored first (rows with the
// same key and content that others committed stay), and their counts from this writer's rollup
// rows (the latency rollup follows by a trigger, migration 11). Rare: both gateways must have
// copied the same seq between two commits, i.e. a result delivered to both around a failover.
void PgStore::take_back(const std::vector<StagedEvent>& events, pg::Pipeline& pipeline) {
  std::vector<int64_t> nodes, boots, seqs, at, labels, scores;
  for (const auto& e : events) {
    nodes.push_back(e.key.node_ref);
    boots.push_back(e.key.boot_id);
    seqs.push_back(e.seq);
    at.push_back(e.at_ms);
    labels.push_back(e.label);
    scores.push_back(e.score);
  }
  // at_ms, label, score and node_ref lead events_by_time, so each key is found by that index.
  pipeline.add(
      "DELETE FROM events e USING unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::int[], "
      "$6::int[]) AS k(n, b, s, t, l, c) WHERE e.at_ms = k.t AND e.label = k.l AND e.score = k.c AND e.node_ref = "
      "k.n AND e.boot_id = k.b AND e.seq = k.s AND e.xmin = pg_current_xact_id()::xid",
      pg::Params()
          .add(pg::int_array(nodes))
          .add(pg::int_array(boots))
          .add(pg::int_array(seqs))
          .add(pg::int_array(at))
          .add(pg::int_array(labels))
          .add(pg::int_array(scores)));
  write_rollup(events, -1, pipeline);
}

static_assert(kCoarseRollupMs == 1'800'000, "write_rollup's SQL names the half hour's width");
static_assert(pg::kPartitionMs % kCoarseRollupMs == 0, "retention drops whole half hours with a day");

// Adds (sign 1) or takes back (sign -1) the rollup counts of these events in this writer's rows, in
// key order (the order every batch locks them in).
void PgStore::write_rollup(const std::vector<StagedEvent>& events, int64_t sign, pg::Pipeline& pipeline) {
  std::map<std::tuple<int64_t, int64_t, int64_t>, int64_t> counts;
  for (const auto& e : events) {
    const int64_t bin = std::clamp<int64_t>(e.score / 32, 0, static_cast<int64_t>(kScoreBins) - 1);
    counts[{e.at_ms / kRollupMs * kRollupMs, e.label, bin}] += sign;
  }
  std::vector<int64_t> minutes, labels, bins, n;
  for (const auto& [key, count] : counts) {
    minutes.push_back(std::get<0>(key));
    labels.push_back(std::get<1>(key));
    bins.push_back(std::get<2>(key));
    n.push_back(count);
  }
  // One statement, one round trip: the minutes, then their sums per half hour (query.h,
  // kCoarseRollupMs), each in key order.
  pipeline.add(
      "WITH k AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[], $4::bigint[]) AS k(m, l, b, c)), "
      "minutes AS (INSERT INTO label_minutes(minute_ms, label, bin, writer, count) "
      "SELECT m, l, b, $5, c FROM k ORDER BY 1, 2, 3 ON CONFLICT (minute_ms, label, bin, writer) "
      "DO UPDATE SET count = label_minutes.count + excluded.count) "
      "INSERT INTO label_half_hours(half_hour_ms, label, bin, writer, count) "
      "SELECT m / 1800000 * 1800000, l, b, $5, sum(c) FROM k GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 "
      "ON CONFLICT (half_hour_ms, label, bin, writer) DO UPDATE SET count = label_half_hours.count + excluded.count",
      pg::Params()
          .add(pg::int_array(minutes))
          .add(pg::int_array(labels))
          .add(pg::int_array(bins))
          .add(pg::int_array(n))
          .add(writer_));
}

// The copied events' latency counts (query.h, latency_bucket) in this writer's rows of the latency
// rollup, in key order. Only ever added here: the copies take_back() deletes leave the rollup by
// migration 11's delete trigger (in the rows of this connection's backend pid); readers sum all
// writers' rows.
void PgStore::write_latency_rollup(const std::vector<StagedEvent>& events, pg::Pipeline& pipeline) {
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t>, int64_t> counts;
  for (const auto& e : events) {
    ++counts[{e.model_id, e.model_version, e.at_ms / kRollupMs * kRollupMs, latency_bucket(e.latency_us)}];
  }
  std::vector<int64_t> models, versions, minutes, buckets, n;
  for (const auto& [key, count] : counts) {
    models.push_back(std::get<0>(key));
    versions.push_back(std::get<1>(key));
    minutes.push_back(std::get<2>(key));
    buckets.push_back(std::get<3>(key));
    n.push_back(count);
  }
  pipeline.add(
      "INSERT INTO latency_minutes AS l (model_id, model_version, minute_ms, bucket_us, writer, count) "
      "SELECT m, v, t, b, $6, c FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) "
      "AS k(m, v, t, b, c) ORDER BY 1, 2, 3, 4 ON CONFLICT (model_id, model_version, minute_ms, bucket_us, writer) "
      "DO UPDATE SET count = l.count + excluded.count",
      pg::Params()
          .add(pg::int_array(models))
          .add(pg::int_array(versions))
          .add(pg::int_array(minutes))
          .add(pg::int_array(buckets))
          .add(pg::int_array(n))
          .add(writer_));
}

void PgStore::touch(int64_t ref, int64_t seen_ms, uint32_t boot_id, const std::string& bearer) {
  auto& t = touched_[ref];
  if (seen_ms >= t.last_seen_ms) {
    t.last_seen_ms = seen_ms;
    t.boot_id = boot_id;
    t.bearer = bearer;
  }
}

void PgStore::flush_touches(pg::Pipeline& pipeline) {
  if (touched_.empty()) return;
  std::vector<int64_t> ids, seen, boots;
  std::vector<std::optional<std::string>> bearers;
  for (const auto& [id, t] : touched_) {  // id order: gateways lock node rows in the same order
    ids.push_back(id);
    seen.push_back(t.last_seen_ms);
    boots.push_back(t.boot_id);
    bearers.emplace_back(t.bearer);
  }
  touched_.clear();
  pipeline.add(
      "UPDATE nodes n SET last_seen_ms = GREATEST(n.last_seen_ms, k.t), "
      "boot_id = CASE WHEN k.t >= n.last_seen_ms THEN k.b ELSE n.boot_id END, "
      "bearer = CASE WHEN k.t >= n.last_seen_ms THEN k.r ELSE n.bearer END, "
      "state_changed_ms = CASE WHEN n.online THEN n.state_changed_ms ELSE k.t END, online = TRUE "
      "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[]) AS k(id, t, b, r) WHERE n.id = k.id",
      pg::Params()
          .add(pg::int_array(ids))
          .add(pg::int_array(seen))
          .add(pg::int_array(boots))
          .add(pg::text_array(bearers)));
}

void PgStore::learn_models(const std::vector<const ResultsItem*>& items, pg::Pipeline& pipeline) {
  // A node's results name the model it runs: enough for a row that never got its Hello (a Hello
  // published before any gateway subscribed is gone; its retained state came through).
  std::map<int64_t, std::pair<uint32_t, uint32_t>> models;  // id order: rows are locked in this order
  for (const auto* item : items) {
    if (item->model_version != 0) models[ref(item->node_id)] = {item->model_id, item->model_version};
  }
  if (models.empty()) return;
  std::vector<int64_t> ids, model_ids, versions;
  for (const auto& [id, model] : models) {
    ids.push_back(id);
    model_ids.push_back(model.first);
    versions.push_back(model.second);
  }
  pipeline.add(
      "UPDATE nodes n SET model_id = k.m, model_version = k.v "
      "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS k(id, m, v) "
      "WHERE n.id = k.id AND coalesce(n.model_version, 0) = 0",
      pg::Params().add(pg::int_array(ids)).add(pg::int_array(model_ids)).add(pg::int_array(versions)));
}

void PgStore::apply(const HelloItem& item) {
  const int64_t id = ref(item.node_id);
  db_->query(
      "UPDATE nodes SET hardware = $2, firmware_version = $3, model_id = $4, model_version = $5, "
      "model_name = $6, slot_bytes = $7, arena_bytes = $8, key_id = $9 WHERE id = $1",
      pg::Params()
          .add(id)
          .add(item.hardware)
          .add(int64_t{item.firmware_version})
          .add(int64_t{item.model_id})
          .add(int64_t{item.model_version})
          .add(item.model_name)
          .add(int64_t{item.slot_bytes})
          .add(int64_t{item.arena_bytes})
          .add(item.key_id_hex));
  touch(id, item.received_ms, item.boot_id, item.bearer);
}

void PgStore::apply(const TelemetryItem& item) {
  const int64_t id = ref(item.node_id);
  db_->query(
      "INSERT INTO telemetry(node_ref, boot_id, received_ms, uptime_s, inferences, free_ram_bytes, "
      "last_latency_us, dropped_results, pending_results, reconnects, failed_inferences) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
      pg::Params()
          .add(id)
          .add(int64_t{item.boot_id})
          .add(item.received_ms)
          .add(int64_t{item.uptime_s})
          .add(int64_t{item.inferences})
          .add(int64_t{item.free_ram_bytes})
          .add(int64_t{item.last_latency_us})
          .add(int64_t{item.dropped_results})
          .add(int64_t{item.pending_results})
          .add(int64_t{item.reconnects})
          .add(int64_t{item.failed_inferences}));
  touch(id, item.received_ms, item.boot_id, item.bearer);
}

void PgStore::apply(const OtaStatusItem& item) {
  const int64_t id = ref(item.node_id);
  db_->query(
      "INSERT INTO ota_status(node_ref, boot_id, received_ms, model_id, version, state, reason, "
      "bytes_written, total_bytes, active_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      pg::Params()
          .add(id)
          .add(int64_t{item.boot_id})
          .add(item.received_ms)
          .add(int64_t{item.model_id})
          .add(int64_t{item.version})
          .add(int64_t{item.state})
          .add(int64_t{item.reason})
          .add(int64_t{item.bytes_written})
          .add(int64_t{item.total_bytes})
          .add(int64_t{item.active_version}));
  // What a node runs changes without a new Hello when an update activates (or rolls back).
  if (item.active_version != 0) {
    const bool activated = item.state == tinyedge_v1_OtaState_OTA_ACTIVATED;
    db_->query("UPDATE nodes SET model_id = CASE WHEN $4 THEN $2 ELSE model_id END, model_version = $3 WHERE id = $1",
               pg::Params()
                   .add(id)
                   .add(int64_t{item.model_id})
                   .add(int64_t{item.active_version})
                   .add(activated ? "true" : "false"));
  }
  touch(id, item.received_ms, item.boot_id, item.bearer);
}

void PgStore::apply(const StateItem& item) {
  const int64_t id = ref(item.node_id);
  // A state message and an uplink of the same node can share a batch: apply the touch first so
  // that the state (which arrived later or earlier) is not overwritten by a stale "online".
  if (touched_.count(id)) {
    pg::Pipeline pipeline(*db_);
    flush_touches(pipeline);
    pipeline.run();
  }
  db_->query(
      "UPDATE nodes SET online = $2, state_changed_ms = $3, last_seen_ms = GREATEST(last_seen_ms, $3) "
      "WHERE id = $1 AND online IS DISTINCT FROM $2",
      pg::Params().add(id).add(item.online ? "true" : "false").add(item.received_ms));
}

void PgStore::apply(const GroupsItem& item) {
  const int64_t id = ref(item.node_id);
  db_->query("DELETE FROM node_groups WHERE node_ref = $1", pg::Params().add(id));
  std::vector<std::optional<std::string>> groups(item.groups.begin(), item.groups.end());
  db_->query(
      "INSERT INTO node_groups(node_ref, group_name) SELECT $1, g FROM unnest($2::text[]) AS u(g) "
      "ON CONFLICT DO NOTHING",
      pg::Params().add(id).add(pg::text_array(groups)));
}

void PgStore::apply(const EnrollmentItem& item) {
  const int64_t id = ref(item.node_id);
  db_->query(
      "INSERT INTO enrollment_log(node_ref, received_ms, action, refusal, label, examples_used, distance_q14, "
      "nearest_label) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      pg::Params()
          .add(id)
          .add(item.received_ms)
          .add(int64_t{item.action})
          .add(int64_t{item.refusal})
          .add(item.label)
          .add(int64_t{item.examples_used})
          .add(int64_t{item.distance_q14})
          .add(item.nearest_label));
  // The node's list is the whole truth (positions move when a class in the middle goes); a label
  // it already held keeps the figures of its own start.
  std::vector<std::optional<std::string>> labels(item.enrolled.begin(), item.enrolled.end());
  db_->query("DELETE FROM enrolled_labels WHERE node_ref = $1 AND NOT (label = ANY($2::text[]))",
             pg::Params().add(id).add(pg::text_array(labels)));
  db_->query(
      "INSERT INTO enrolled_labels(node_ref, label, position, enrolled_ms, model_id, model_version) "
      "SELECT $1, l, p - 1, $3, $4, $5 FROM unnest($2::text[]) WITH ORDINALITY AS u(l, p) "
      "ON CONFLICT (node_ref, label) DO UPDATE SET position = excluded.position, model_id = excluded.model_id, "
      "model_version = excluded.model_version",
      pg::Params()
          .add(id)
          .add(pg::text_array(labels))
          .add(item.received_ms)
          .add(int64_t{item.model_id})
          .add(int64_t{item.model_version}));
  if (item.action == tinyedge_v1_EnrollCommand_Action_START && item.refusal == tinyedge_v1_EnrollRefusal_ENROLL_OK) {
    db_->query(
        "UPDATE enrolled_labels SET examples_used = $3, distance_q14 = $4, nearest_label = $5, enrolled_ms = $6 "
        "WHERE node_ref = $1 AND label = $2",
        pg::Params()
            .add(id)
            .add(item.label)
            .add(int64_t{item.examples_used})
            .add(int64_t{item.distance_q14})
            .add(item.nearest_label)
            .add(item.received_ms));
  }
  if (!item.shared_class.empty()) {
    db_->query("UPDATE enrolled_labels SET shared_class = $3 WHERE node_ref = $1 AND label = $2",
               pg::Params().add(id).add(item.label).add(item.shared_class));
  }
  touch(id, item.received_ms, item.boot_id, item.bearer);
}

// Retention by age drops whole days of events (a catalogue change, no row deleted) and deletes
// the small logs (telemetry, OTA status) a chunk at a time.
bool PgStore::retention_pass() {
  const auto& r = options_.retention;
  if (r.max_age_ms <= 0) return false;
  const int64_t cutoff = now_ms() - r.max_age_ms;
  const auto parts = db_->query(
      "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
      "WHERE i.inhparent = 'events'::regclass ORDER BY 1");
  int64_t dropped = 0;
  for (int i = 0; i < parts.rows(); ++i) {
    const std::string name = parts.text(i, 0);
    if (name.rfind("events_d", 0) != 0) continue;
    const int64_t day = std::strtoll(name.c_str() + 8, nullptr, 10);
    if ((day + 1) * pg::kPartitionMs > cutoff) continue;  // holds an event younger than the cutoff
    // The day's rollup rows go with its events, in one transaction.
    pg::Transaction transaction(*db_);
    const int64_t rows = db_->query("SELECT count(*) FROM " + name).int64(0, 0);
    db_->exec("DROP TABLE IF EXISTS " + name);
    db_->query("DELETE FROM label_minutes WHERE minute_ms >= $1 AND minute_ms < $2",
               pg::Params().add(day * pg::kPartitionMs).add((day + 1) * pg::kPartitionMs));
    db_->query("DELETE FROM label_half_hours WHERE half_hour_ms >= $1 AND half_hour_ms < $2",
               pg::Params().add(day * pg::kPartitionMs).add((day + 1) * pg::kPartitionMs));
    db_->query("DELETE FROM latency_minutes WHERE minute_ms >= $1 AND minute_ms < $2",
               pg::Params().add(day * pg::kPartitionMs).add((day + 1) * pg::kPartitionMs));
    transaction.commit();
    partitions_.erase(day);
    dropped += rows;
    log_.info("store", "retention: dropped a day of events", {{"partition", name}, {"events", rows}});
  }
  const int64_t chunk = r.chunk_rows > 0 ? r.chunk_rows : 2000;
  bool more = false;
  for (const char* table : {"telemetry", "ota_status"}) {
    const auto n = db_->query(std::string("DELETE FROM ") + table + " WHERE id IN (SELECT id FROM " + table +
                                  " WHERE received_ms < $1 ORDER BY id LIMIT $2)",
                              pg::Params().add(cutoff).add(chunk))
                       .affected();
    more |= n == chunk;
  }
  if (dropped > 0) metrics_.retention_deleted.add(static_cast<uint64_t>(dropped));
  return more;
}

}  // namespace tinyedge::gateway
