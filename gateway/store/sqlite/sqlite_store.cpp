#include "gateway/store/sqlite/sqlite_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "gateway/store/sqlite/migrations.h"
#include "gateway/store/sqlite/store_check.h"
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

int64_t file_bytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

}  // namespace

struct SqliteStore::Statements {
  explicit Statements(const sql::Database& db)
      : insert_node(db.prepare("INSERT INTO nodes(node_id, first_seen_ms, last_seen_ms) VALUES(?1, ?2, ?2) "
                               "ON CONFLICT(node_id) DO NOTHING")),
        select_node(db.prepare("SELECT id FROM nodes WHERE node_id = ?1")),
        touch_node(db.prepare("UPDATE nodes SET last_seen_ms = max(last_seen_ms, ?2), boot_id = ?3, bearer = ?4, "
                              "state_changed_ms = CASE online WHEN 1 THEN state_changed_ms ELSE ?2 END, online = 1 "
                              "WHERE id = ?1")),
        hello_node(db.prepare("UPDATE nodes SET hardware = ?2, firmware_version = ?3, model_id = ?4, "
                              "model_version = ?5, model_name = ?6, slot_bytes = ?7, arena_bytes = ?8, key_id = ?9 "
                              "WHERE id = ?1")),
        set_state(db.prepare("UPDATE nodes SET online = ?2, state_changed_ms = ?3, "
                             "last_seen_ms = max(last_seen_ms, ?3) WHERE id = ?1 AND online IS NOT ?2")),
        insert_telemetry(db.prepare("INSERT INTO telemetry(node_ref, boot_id, received_ms, uptime_s, inferences, "
                                    "free_ram_bytes, last_latency_us, dropped_results, pending_results, reconnects, "
                                    "failed_inferences) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")),
        // What a node runs changes without a new Hello when an update activates (or rolls back).
        set_active_model(db.prepare("UPDATE nodes SET model_id = CASE WHEN ?4 THEN ?2 ELSE model_id END, "
                                    "model_version = ?3 WHERE id = ?1")),
        // A node's results name the model it runs: enough for a row that never got its Hello (a
        // Hello published before this gateway subscribed is gone; its retained state came through).
        learn_model(db.prepare("UPDATE nodes SET model_id = ?2, model_version = ?3 "
                               "WHERE id = ?1 AND coalesce(model_version, 0) = 0")),
        insert_ota_status(db.prepare("INSERT INTO ota_status(node_ref, boot_id, received_ms, model_id, version, state, "
                                     "reason, bytes_written, total_bytes, active_version) "
                                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")),
        clear_groups(db.prepare("DELETE FROM node_groups WHERE node_ref = ?1")),
        insert_group(db.prepare("INSERT OR IGNORE INTO node_groups(node_ref, group_name) VALUES(?1, ?2)")),
        select_ack(db.prepare("SELECT through_seq FROM acks WHERE node_ref = ?1 AND boot_id = ?2")),
        select_above(db.prepare("SELECT seq FROM events WHERE node_ref = ?1 AND boot_id = ?2 AND seq > ?3 "
                                "ORDER BY seq")),
        upsert_ack(db.prepare("INSERT INTO acks(node_ref, boot_id, through_seq) VALUES(?1, ?2, ?3) "
                              "ON CONFLICT(node_ref, boot_id) DO UPDATE SET through_seq = excluded.through_seq")),
        retire_old_events(db.prepare("DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?1) "
                                     "AND received_ms < ?2")),
        retire_oldest_events(db.prepare("DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?1)")),
        retire_telemetry(db.prepare("DELETE FROM telemetry WHERE id IN (SELECT id FROM telemetry ORDER BY id "
                                    "LIMIT ?1) AND received_ms < ?2")),
        retire_ota_status(db.prepare("DELETE FROM ota_status WHERE id IN (SELECT id FROM ota_status ORDER BY id "
                                     "LIMIT ?1) AND received_ms < ?2")),
        acks_window_end(db.prepare("SELECT node_ref, boot_id FROM acks WHERE (node_ref, boot_id) > (?1, ?2) "
                                   "ORDER BY node_ref, boot_id LIMIT 1 OFFSET ?3")),
        // An ack row whose boot has no events left says nothing the events do not (see tracker()),
        // except for the boot a node is running now: its tracker must not restart from zero.
        retire_acks(db.prepare("DELETE FROM acks WHERE (node_ref, boot_id) > (?1, ?2) "
                               "AND (node_ref, boot_id) <= (?3, ?4) "
                               "AND NOT EXISTS (SELECT 1 FROM events e WHERE e.node_ref = acks.node_ref "
                               "AND e.boot_id = acks.boot_id) "
                               "AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = acks.node_ref "
                               "AND n.boot_id = acks.boot_id)")),
        // Mark, re-list, sweep: the node's list is the whole truth, positions move when a class in
        // the middle goes.
        unlist_enrolled(db.prepare("UPDATE enrolled_labels SET position = -1 WHERE node_ref = ?1")),
        // A label the node already held keeps the figures of its own start (the node's list
        // only says it exists, and where it sits in the table).
        upsert_enrolled(db.prepare("INSERT INTO enrolled_labels(node_ref, label, position, enrolled_ms, model_id, "
                                   "model_version) VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(node_ref, label) DO "
                                   "UPDATE SET position = excluded.position, model_id = excluded.model_id, "
                                   "model_version = excluded.model_version")),
        drop_unlisted(db.prepare("DELETE FROM enrolled_labels WHERE node_ref = ?1 AND position < 0")),
        set_enrolled_figures(db.prepare("UPDATE enrolled_labels SET examples_used = ?3, distance_q14 = ?4, "
                                        "nearest_label = ?5, enrolled_ms = ?6 WHERE node_ref = ?1 AND label = ?2")),
        set_shared_class(db.prepare("UPDATE enrolled_labels SET shared_class = ?3 WHERE node_ref = ?1 AND label = ?2")),
        insert_enrollment_log(db.prepare("INSERT INTO enrollment_log(node_ref, received_ms, action, refusal, label, "
                                         "examples_used, distance_q14, nearest_label) "
                                         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")) {}

  sql::Statement insert_node, select_node, touch_node, hello_node, set_state, insert_telemetry, set_active_model,
      learn_model, insert_ota_status, clear_groups, insert_group, select_ack, select_above, upsert_ack,
      retire_old_events, retire_oldest_events, retire_telemetry, retire_ota_status, acks_window_end, retire_acks,
      unlist_enrolled, upsert_enrolled, drop_unlisted, set_enrolled_figures, set_shared_class, insert_enrollment_log;
};

SqliteStore::SqliteStore(StoreOptions options, Metrics& metrics, Logger& log)
    : BatchWriter(std::move(options), metrics, log) {
  open();
}

SqliteStore::~SqliteStore() { stop(); }

void SqliteStore::open() {
  if (options_.synchronous != "FULL" && options_.synchronous != "NORMAL" && options_.synchronous != "EXTRA") {
    throw sql::Error(SQLITE_MISUSE,
                     "store.synchronous must be FULL, NORMAL or EXTRA, not '" + options_.synchronous + "'");
  }
  db_ = std::make_unique<sql::Database>(options_.path, sql::Database::Mode::kReadWrite);
  // auto_vacuum only takes effect before the first table exists: lets size retention give pages back.
  // Both only take effect before the first table exists. Larger pages mean fewer write
  // syscalls per commit (they dominate on virtual disks).
  if (db_->scalar("PRAGMA page_count") == 0) {
    db_->exec("PRAGMA page_size = 16384");
    db_->exec("PRAGMA auto_vacuum = INCREMENTAL");
  }
  db_->exec("PRAGMA journal_mode = WAL");
  {
    auto mode = db_->prepare("PRAGMA journal_mode");
    if (!mode.step() || mode.text(0) != "wal") {
      throw sql::Error(SQLITE_CANTOPEN, "cannot switch " + options_.path + " to WAL mode");
    }
  }
  db_->exec("PRAGMA synchronous = " + options_.synchronous);
  db_->exec("PRAGMA foreign_keys = OFF");
  // Index pages of a busy events table do not fit SQLite's 2 MB default cache.
  db_->exec("PRAGMA cache_size = -" + std::to_string(options_.cache_kib));
  // Bound the write-ahead log: checkpoint it once it holds wal_max_bytes and cut the file back to
  // that size when it restarts. (An unbounded log filled a disk that had just been given space
  // back, and recovery then needed room for the whole log: 128 MiB at 8192 pages of 16 KiB.)
  const int64_t wal_max = std::max<int64_t>(options_.wal_max_bytes, 64 * 1024);
  const int64_t page_size = db_->scalar("PRAGMA page_size");
  db_->exec("PRAGMA wal_autocheckpoint = " + std::to_string(std::max<int64_t>(1, wal_max / page_size)));
  db_->exec("PRAGMA journal_size_limit = " + std::to_string(wal_max));
  wal_path_ = options_.path + "-wal";
  // A migration that adds an index reads every event (about 45 s at 10M): say so before it starts.
  if (const int64_t from = db_->scalar("PRAGMA user_version"); from > 0 && from < migrations().back().version) {
    log_.info("store", "migrating schema; adding indexes to a large store takes a while",
              {{"path", options_.path}, {"from", from}, {"to", migrations().back().version}});
  }
  const int applied = migrate(*db_);
  if (applied > 0) {
    log_.info("store", "schema migrated",
              {{"path", options_.path}, {"applied", applied}, {"version", db_->scalar("PRAGMA user_version")}});
  }
  check_database(*db_, options_.path, options_.startup_check);
  if (options_.on_open) options_.on_open(*db_);
  st_ = std::make_unique<Statements>(*db_);
  // Counting 10M rows takes a second: only retention by count or size needs the figure.
  const auto& r = options_.retention;
  if (r.max_events > 0 || r.max_db_bytes > 0) event_count_ = db_->scalar("SELECT count(*) FROM events");
}

SqliteStore::Outcome SqliteStore::try_write(std::vector<StoreItem>& batch, std::vector<AckNotice>& notices) {
  try {
    write_batch(batch, notices);
    bound_wal();
    return Outcome::kCommitted;
  } catch (const sql::Error& error) {
    metrics_.store_errors.add();
    // The rolled-back transaction may have created nodes or moved acks: forget cached state.
    node_refs_.clear();
    forget_trackers();
    touched_.clear();
    if (is_disk_full(error)) {
      if (enter_disk_full()) {
        log_.error("store", "disk full: batch kept unacknowledged and retried until there is room; results refused",
                   {{"error", error.what()},
                    {"items", batch.size()},
                    {"wal_bytes", file_bytes(wal_path_)},
                    {"db_bytes", file_bytes(options_.path)}});
      }
      return Outcome::kDiskFull;
    }
    // Damage the startup check did not reach (it reads only the newest log pages) shows here.
    const char* what = error.primary() == SQLITE_CORRUPT
                           ? "database is damaged; batch dropped, nodes will resend; restore a backup"
                           : "transaction failed; batch dropped, nodes will resend";
    log_.error("store", what, {{"error", error.what()}, {"code", error.code()}, {"items", batch.size()}});
    return Outcome::kFailed;
  }
}

bool SqliteStore::is_disk_full(const sql::Error& error) const {
  // SQLite maps ENOSPC on writes to SQLITE_FULL; growing the -shm file reports an I/O error.
  return error.primary() == SQLITE_FULL || sqlite3_system_errno(db_->handle()) == ENOSPC;
}

void SqliteStore::bound_wal() {
  const int64_t wal = file_bytes(wal_path_);
  metrics_.store_wal_bytes.set(static_cast<uint64_t>(wal));
  // The automatic checkpoint is passive: a reader in the way keeps the log growing. Past four
  // times its bound, wait for the readers (up to the busy timeout) and truncate it.
  if (wal > 4 * std::max<int64_t>(options_.wal_max_bytes, 64 * 1024)) {
    give_back_wal();
    metrics_.store_wal_bytes.set(static_cast<uint64_t>(file_bytes(wal_path_)));
  }
}

void SqliteStore::give_back_wal() {
  int frames = 0, copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, &frames, &copied);
  if (rc != SQLITE_OK) {
    log_.debug("store", "checkpoint did not complete",
               {{"error", sqlite3_errstr(rc)}, {"frames", frames}, {"copied", copied}});
  }
}

void SqliteStore::write_batch(std::vector<StoreItem>& batch, std::vector<AckNotice>& notices) {
  const auto started = std::chrono::steady_clock::now();
  std::map<AckKey, std::string> acked;  // (node_ref, boot) -> node id, for every results item
  size_t stored = 0, dups = 0;
  {
    sql::Transaction transaction(*db_);
    for (auto& item : batch) {
      std::visit(
          [&](auto& value) {
            if constexpr (std::is_same_v<std::decay_t<decltype(value)>, ResultsItem>) {
              apply(value, acked, stored, dups);
            } else {
              apply(value);
            }
          },
          item);
    }
    for (auto& [ref, touch] : touched_) {
      st_->touch_node.bind(1, ref).bind(2, touch.last_seen_ms).bind(3, int64_t{touch.boot_id}).bind(4, touch.bearer);
      st_->touch_node.run();
    }
    touched_.clear();
    const int64_t now = now_ms();
    for (const auto& [key, node] : acked) {
      auto& t = tracker(key);
      if (const uint32_t skipped = t.skip_stale_gap(now, options_.ack_gap_timeout_ms)) {
        metrics_.ack_gaps_skipped.add(skipped);
        log_.warn("store", "gave up waiting for missing results",
                  {{"node", node}, {"boot_id", key.boot_id}, {"skipped", skipped}, {"through_seq", t.through()}});
      }
      st_->upsert_ack.bind(1, key.node_ref).bind(2, int64_t{key.boot_id}).bind(3, int64_t{t.through()});
      st_->upsert_ack.run();
      // Read now: a later tracker() call in this loop may evict this one (trackers are bounded).
      if (t.through() > 0) notices.push_back({node, key.boot_id, t.through()});
    }
    transaction.commit();
  }
  metrics_.ack_trackers.set(trackers_.size());
  event_count_ += static_cast<int64_t>(stored);
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  metrics_.batches.add();
  metrics_.events_stored.add(stored);
  metrics_.duplicates.add(dups);
  metrics_.batch_events_total.add(stored + dups);
  metrics_.batch_events_max.max(stored + dups);
  metrics_.store_commit_us_total.add(static_cast<uint64_t>(us));
  metrics_.store_commit_us_max.max(static_cast<uint64_t>(us));
}

void SqliteStore::before_retry(Outcome) {
  if (options_.on_disk_full_retry) options_.on_disk_full_retry(*db_);
  give_back_wal();
}

sql::Statement& SqliteStore::insert_events(size_t rows) {
  auto& slot = insert_events_[rows];
  if (!slot) {
    std::string sql =
        "INSERT OR IGNORE INTO events(node_ref, boot_id, seq, at_ms, received_ms, model_id, "
                      "model_version, label, score, runners_up, latency_us, sample_id) VALUES ";
    for (size_t i = 0; i < rows; ++i) sql += i ? ",(?,?,?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?,?,?)";
    slot = std::make_unique<sql::Statement>(*db_, sql);
  }
  return *slot;
}

int64_t SqliteStore::node_ref(const std::string& node_id, int64_t seen_ms) {
  if (auto it = node_refs_.find(node_id); it != node_refs_.end()) return it->second;
  st_->insert_node.bind(1, node_id).bind(2, seen_ms);
  st_->insert_node.run();
  st_->select_node.bind(1, node_id);
  if (!st_->select_node.step()) throw sql::Error(SQLITE_INTERNAL, "node row vanished: " + node_id);
  const int64_t ref = st_->select_node.int64(0);
  st_->select_node.reset();
  node_refs_.emplace(node_id, ref);
  return ref;
}

void SqliteStore::touch(int64_t ref, int64_t seen_ms, uint32_t boot_id, const std::string& bearer) {
  auto& t = touched_[ref];
  if (seen_ms >= t.last_seen_ms) {
    t.last_seen_ms = seen_ms;
    t.boot_id = boot_id;
    t.bearer = bearer;
  }
}

// Trackers are a cache of the acks table and the events above each ack, bounded per node: a node
// that reboots (or claims) 100k boot ids must not cost 100k trackers. Only the newest few boots a
// node used keep theirs; an older boot's late uplink rebuilds its tracker from the database.
// Evicting cannot store a result twice nor ack one that is not durable:
// - duplicates are refused by the events table's UNIQUE (node_ref, boot_id, seq) with INSERT OR
//   IGNORE, which does not consult the tracker at all;
// - the tracker only decides what the Ack says, and its rebuild reads the acks row (written in
//   the same transaction as the events it covers) and every stored seq above it, so it answers
//   exactly what the evicted one would have (only the gap timeout's clock restarts). A rebuild in
//   the middle of a batch runs inside that batch's transaction and sees its rows.
AckTracker& SqliteStore::tracker(const AckKey& key) {
  auto& boots = recent_boots_[key.node_ref];
  if (auto at = std::find(boots.begin(), boots.end(), key.boot_id); at != boots.end()) {
    std::rotate(boots.begin(), at, at + 1);
  } else {
    boots.insert(boots.begin(), key.boot_id);
    if (boots.size() > kTrackedBootsPerNode) {
      trackers_.erase(AckKey{key.node_ref, boots.back()});
      boots.pop_back();
    }
  }
  if (auto it = trackers_.find(key); it != trackers_.end()) return it->second;
  // Not cached (first time since start): rebuild from what is durable.
  uint32_t through = 0;
  st_->select_ack.bind(1, key.node_ref).bind(2, int64_t{key.boot_id});
  if (st_->select_ack.step()) through = static_cast<uint32_t>(st_->select_ack.int64(0));
  st_->select_ack.reset();
  AckTracker tracker(through);
  st_->select_above.bind(1, key.node_ref).bind(2, int64_t{key.boot_id}).bind(3, int64_t{through});
  const int64_t now = now_ms();
  while (st_->select_above.step()) tracker.add(static_cast<uint32_t>(st_->select_above.int64(0)), 1, now);
  st_->select_above.reset();
  return trackers_.emplace(key, tracker).first->second;
}

void SqliteStore::forget_trackers() {
  trackers_.clear();
  recent_boots_.clear();
  metrics_.ack_trackers.set(0);
}

void SqliteStore::apply(const ResultsItem& item, std::map<AckKey, std::string>& acked, size_t& stored, size_t& dups) {
  const int64_t ref = node_ref(item.node_id, item.received_ms);
  const AckKey key{ref, item.boot_id};
  auto& t = tracker(key);
  // One multi-row INSERT per slice of up to kRowsPerInsert results: far fewer VM steps per row.
  size_t fresh = 0;
  const size_t total = item.results.size();
  for (size_t begin = 0; begin < total; begin += kRowsPerInsert) {
    const size_t rows = std::min(kRowsPerInsert, total - begin);
    auto& s = insert_events(rows);
    for (size_t i = begin; i < begin + rows; ++i) {
      const auto& result = item.results[i];
      const int p = static_cast<int>((i - begin) * 12);  // 12 columns per row
      s.bind(p + 1, ref);
      s.bind(p + 2, int64_t{item.boot_id});
      s.bind(p + 3, int64_t{item.first_seq + static_cast<uint32_t>(i)});
      s.bind(p + 4, item.received_ms - result.age_ms);
      s.bind(p + 5, item.received_ms);
      s.bind(p + 6, int64_t{item.model_id});
      s.bind(p + 7, int64_t{item.model_version});
      s.bind(p + 8, int64_t{result.label});
      s.bind(p + 9, int64_t{result.score});
      if (result.runners_up.empty())
        s.bind_null(p + 10);
      else
        s.bind(p + 10, encode_runners_up(result.runners_up));
      s.bind(p + 11, int64_t{result.latency_us});
      s.bind(p + 12, int64_t{result.sample_id});
    }
    s.run();
    fresh += static_cast<size_t>(db_->changes());
  }
  stored += fresh;
  dups += item.results.size() - fresh;
  t.add(item.first_seq, static_cast<uint32_t>(item.results.size()), now_ms());
  acked.emplace(key, item.node_id);
  touch(ref, item.received_ms, item.boot_id, item.bearer);
  if (item.model_version != 0) {
    st_->learn_model.bind(1, ref).bind(2, int64_t{item.model_id}).bind(3, int64_t{item.model_version}).run();
  }
}

void SqliteStore::apply(const HelloItem& item) {
  const int64_t ref = node_ref(item.node_id, item.received_ms);
  auto& s = st_->hello_node;
  s.bind(1, ref).bind(2, item.hardware).bind(3, int64_t{item.firmware_version}).bind(4, int64_t{item.model_id});
  s.bind(5, int64_t{item.model_version}).bind(6, item.model_name).bind(7, int64_t{item.slot_bytes});
  s.bind(8, int64_t{item.arena_bytes}).bind(9, item.key_id_hex);
  s.run();
  touch(ref, item.received_ms, item.boot_id, item.bearer);
}

void SqliteStore::apply(const TelemetryItem& item) {
  const int64_t ref = node_ref(item.node_id, item.received_ms);
  auto& s = st_->insert_telemetry;
  s.bind(1, ref).bind(2, int64_t{item.boot_id}).bind(3, item.received_ms).bind(4, int64_t{item.uptime_s});
  s.bind(5, int64_t{item.inferences}).bind(6, int64_t{item.free_ram_bytes}).bind(7, int64_t{item.last_latency_us});
  s.bind(8, int64_t{item.dropped_results}).bind(9, int64_t{item.pending_results}).bind(10, int64_t{item.reconnects});
  s.bind(11, int64_t{item.failed_inferences});
  s.run();
  touch(ref, item.received_ms, item.boot_id, item.bearer);
}

void SqliteStore::apply(const OtaStatusItem& item) {
  const int64_t ref = node_ref(item.node_id, item.received_ms);
  auto& s = st_->insert_ota_status;
  s.bind(1, ref).bind(2, int64_t{item.boot_id}).bind(3, item.received_ms).bind(4, int64_t{item.model_id});
  s.bind(5, int64_t{item.version}).bind(6, int64_t{item.state}).bind(7, int64_t{item.reason});
  s.bind(8, int64_t{item.bytes_written}).bind(9, int64_t{item.total_bytes}).bind(10, int64_t{item.active_version});
  s.run();
  if (item.active_version != 0) {
    const bool activated = item.state == tinyedge_v1_OtaState_OTA_ACTIVATED;
    st_->set_active_model.bind(1, ref).bind(2, int64_t{item.model_id}).bind(3, int64_t{item.active_version});
    st_->set_active_model.bind(4, int64_t{activated}).run();
  }
  touch(ref, item.received_ms, item.boot_id, item.bearer);
}

void SqliteStore::apply(const StateItem& item) {
  const int64_t ref = node_ref(item.node_id, item.received_ms);
  // A state message and an uplink of the same node can share a batch: apply the touch first so
  // that the state (which arrived later or earlier) is not overwritten by a stale "online".
  if (auto it = touched_.find(ref); it != touched_.end()) {
    st_->touch_node.bind(1, ref).bind(2, it->second.last_seen_ms).bind(3, int64_t{it->second.boot_id});
    st_->touch_node.bind(4, it->second.bearer);
    st_->touch_node.run();
    touched_.erase(it);
  }
  st_->set_state.bind(1, ref).bind(2, int64_t{item.online ? 1 : 0}).bind(3, item.received_ms);
  st_->set_state.run();
}

void SqliteStore::apply(const GroupsItem& item) {
  const int64_t ref = node_ref(item.node_id, now_ms());
  st_->clear_groups.bind(1, ref);
  st_->clear_groups.run();
  for (const auto& group : item.groups) {
    st_->insert_group.bind(1, ref).bind(2, group);
    st_->insert_group.run();
  }
}

void SqliteStore::apply(const EnrollmentItem& item) {
  const int64_t ref = node_ref(item.node_id, item.received_ms);
  auto& log = st_->insert_enrollment_log;
  log.bind(1, ref).bind(2, item.received_ms).bind(3, int64_t{item.action}).bind(4, int64_t{item.refusal});
  log.bind(5, item.label).bind(6, int64_t{item.examples_used}).bind(7, int64_t{item.distance_q14});
  log.bind(8, item.nearest_label).run();
  st_->unlist_enrolled.bind(1, ref).run();
  for (size_t i = 0; i < item.enrolled.size(); ++i) {
    auto& s = st_->upsert_enrolled;
    s.bind(1, ref).bind(2, item.enrolled[i]).bind(3, static_cast<int64_t>(i)).bind(4, item.received_ms);
    s.bind(5, int64_t{item.model_id}).bind(6, int64_t{item.model_version}).run();
  }
  st_->drop_unlisted.bind(1, ref).run();
  if (item.action == tinyedge_v1_EnrollCommand_Action_START && item.refusal == tinyedge_v1_EnrollRefusal_ENROLL_OK) {
    auto& s = st_->set_enrolled_figures;
    s.bind(1, ref).bind(2, item.label).bind(3, int64_t{item.examples_used}).bind(4, int64_t{item.distance_q14});
    s.bind(5, item.nearest_label).bind(6, item.received_ms).run();
  }
  if (!item.shared_class.empty())
    st_->set_shared_class.bind(1, ref).bind(2, item.label).bind(3, item.shared_class).run();
  touch(ref, item.received_ms, item.boot_id, item.bearer);
}

bool SqliteStore::retention_pass() {
  const auto& r = options_.retention;
  if (r.max_age_ms <= 0 && r.max_events <= 0 && r.max_db_bytes <= 0) return false;
  const int64_t chunk = r.chunk_rows > 0 ? r.chunk_rows : 2000;
  int64_t deleted = 0;
  bool more = false;
  sql::Transaction transaction(*db_);
  if (r.max_age_ms > 0) {
    const int64_t cutoff = now_ms() - r.max_age_ms;
    st_->retire_old_events.bind(1, chunk).bind(2, cutoff);
    st_->retire_old_events.run();
    const int64_t n = db_->changes();
    deleted += n;
    more |= n == chunk;
    for (auto* s : {&st_->retire_telemetry, &st_->retire_ota_status}) {
      s->bind(1, chunk).bind(2, cutoff);
      s->run();
      more |= db_->changes() == chunk;
    }
  }
  if (r.max_events > 0 && event_count_ - deleted > r.max_events) {
    const int64_t excess = event_count_ - deleted - r.max_events;
    st_->retire_oldest_events.bind(1, std::min(excess, chunk));
    st_->retire_oldest_events.run();
    deleted += db_->changes();
    more |= excess > chunk;
  }
  if (r.max_db_bytes > 0) {
    const int64_t live =
        (db_->scalar("PRAGMA page_count") - db_->scalar("PRAGMA freelist_count")) * db_->scalar("PRAGMA page_size");
    if (live > r.max_db_bytes && event_count_ - deleted > 0) {
      st_->retire_oldest_events.bind(1, chunk);
      st_->retire_oldest_events.run();
      deleted += db_->changes();
      more = true;
    }
  }
  retire_acks(chunk);
  transaction.commit();
  // Give freed pages back to the file system a little at a time.
  db_->exec("PRAGMA incremental_vacuum(256)");
  if (deleted > 0) {
    event_count_ -= deleted;
    metrics_.retention_deleted.add(static_cast<uint64_t>(deleted));
    log_.debug("store", "retention pass", {{"deleted", deleted}, {"events", event_count_}});
  }
  return more && deleted > 0;
}

// Ack rows follow the events they describe out of the store: one window of `chunk` rows per pass,
// from a cursor that wraps around, so a large acks table costs each pass the same bounded work.
// Dropping the row of a boot whose events are gone changes no answer: its results, if resent,
// are not in the events table to be refused either way.
void SqliteStore::retire_acks(int64_t chunk) {
  auto& end = st_->acks_window_end;
  end.bind(1, acks_cursor_.node_ref).bind(2, int64_t{acks_cursor_.boot_id}).bind(3, chunk - 1);
  AckKey last{INT64_MAX, UINT32_MAX};
  const bool partial = !end.step();
  if (!partial) last = AckKey{end.int64(0), static_cast<uint32_t>(end.int64(1))};
  end.reset();
  auto& retire = st_->retire_acks;
  retire.bind(1, acks_cursor_.node_ref).bind(2, int64_t{acks_cursor_.boot_id});
  retire.bind(3, last.node_ref).bind(4, int64_t{last.boot_id});
  retire.run();
  if (const int64_t n = db_->changes(); n > 0) log_.debug("store", "retention pass: ack rows", {{"deleted", n}});
  acks_cursor_ = partial ? AckKey{-1, 0} : last;
}

}  // namespace tinyedge::gateway
