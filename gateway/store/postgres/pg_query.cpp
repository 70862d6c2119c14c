#include "gateway/store/postgres/pg_query.h"

#include <algorithm>

#include "gateway/store/postgres/ingest_claims.h"

namespace tinyedge::gateway {

namespace {

uint32_t u32(int64_t v) { return static_cast<uint32_t>(std::clamp<int64_t>(v, 0, UINT32_MAX)); }

// Numbered placeholders ($1, $2...) with their values, in order.
struct Where {
  std::string sql;
  pg::Params params;
  int next = 1;
  std::string placeholder() { return "$" + std::to_string(next++); }
  void add(const std::string& before, int64_t v, const std::string& after = "") {
    sql += before + placeholder() + after;
    params.add(v);
  }
  void add(const std::string& before, const std::string& v, const std::string& after = "") {
    sql += before + placeholder() + after;
    params.add(v);
  }
};

void add_node_filters(Where& where, const std::optional<std::string>& node, const std::optional<std::string>& group) {
  if (node) where.add(" AND e.node_ref = (SELECT id FROM nodes WHERE node_id = ", *node, ")");
  if (group) where.add(" AND e.node_ref IN (SELECT node_ref FROM node_groups WHERE group_name = ", *group, ")");
}

constexpr const char* kEventColumns =
    "x.id, n.node_id, x.boot_id, x.seq, x.at_ms, x.received_ms, x.model_id, x.model_version, x.label, x.score, "
    "x.runners_up, x.latency_us, x.sample_id";

EventRow read_event(const pg::Result& r, int i) {
  EventRow row;
  row.id = r.int64(i, 0);
  row.node_id = r.text(i, 1);
  row.boot_id = u32(r.int64(i, 2));
  row.seq = u32(r.int64(i, 3));
  row.at_ms = r.int64(i, 4);
  row.received_ms = r.int64(i, 5);
  row.model_id = u32(r.int64(i, 6));
  row.model_version = u32(r.int64(i, 7));
  row.label = u32(r.int64(i, 8));
  row.score = u32(r.int64(i, 9));
  if (!r.is_null(i, 10)) row.runners_up = parse_runners_up(r.text(i, 10));
  row.latency_us = u32(r.int64(i, 11));
  row.sample_id = u32(r.int64(i, 12));
  return row;
}

}  // namespace

PgQuery::PgQuery(const std::string& url) : db_(std::make_unique<pg::Connection>(url)) {
  db_->exec("SET default_transaction_read_only = on");
}

PgQuery::~PgQuery() = default;

pg::Result PgQuery::run(const std::string& sql, const pg::Params& params) {
  try {
    return db_->query(sql, params);
  } catch (const pg::Error& error) {
    if (!error.connection_lost()) throw;
    db_->reconnect();
    db_->exec("SET default_transaction_read_only = on");
    return db_->query(sql, params);
  }
}

EventPage PgQuery::events(const EventFilter& filter) {
  const size_t limit = std::clamp<size_t>(filter.limit, 1, 10000);
  Where where;
  add_node_filters(where, filter.node_id, filter.group);
  if (filter.from_ms) where.add(" AND e.at_ms >= ", *filter.from_ms);
  if (filter.to_ms) where.add(" AND e.at_ms < ", *filter.to_ms);
  if (filter.label) where.add(" AND e.label = ", int64_t{*filter.label});
  if (filter.min_score) where.add(" AND e.score >= ", int64_t{*filter.min_score});
  if (filter.before_id) where.add(" AND e.id < ", *filter.before_id);
  const std::string limit_at = where.placeholder();
  where.params.add(static_cast<int64_t>(limit + 1));  // one extra row tells whether a next page exists
  const std::string sql = std::string("SELECT ") + kEventColumns + " FROM (SELECT * FROM events e WHERE TRUE" +
                          where.sql + " ORDER BY e.id DESC LIMIT " + limit_at +
                          ") x LEFT JOIN nodes n ON n.id = x.node_ref ORDER BY x.id DESC";
  std::lock_guard lock(mutex_);
  if (filter.node_id && filter.group) {
    // A node outside the group matches nothing: say so at once instead of scanning its events.
    const auto member =
        run("SELECT 1 FROM node_groups g JOIN nodes n ON n.id = g.node_ref "
            "WHERE n.node_id = $1 AND g.group_name = $2",
            pg::Params().add(*filter.node_id).add(*filter.group));
    if (member.rows() == 0) return {};
  }
  const auto r = run(sql, where.params);
  EventPage page;
  int64_t last_id = 0;
  for (int i = 0; i < r.rows(); ++i) {
    if (static_cast<size_t>(i) == limit) {
      page.next_cursor = last_id;
      break;
    }
    last_id = r.int64(i, 0);
    if (r.is_null(i, 1)) continue;  // an event of a node the nodes table does not know
    page.events.push_back(read_event(r, i));
  }
  return page;
}

std::vector<LabelBucket> PgQuery::label_stats(const LabelStatsFilter& filter) {
  const int64_t bucket = std::max<int64_t>(filter.bucket_ms, 1);
  // Whole half hours from their rollup, the whole minutes at the ends of those (or of the window,
  // when its buckets are not whole half hours) from the minutes' rollup, and the partial minutes
  // at the window's two ends (or all of it) from the events, each end through events_by_time's
  // range on at_ms (at most a minute of events). Rollup rows are summed over their writers.
  const RollupSpan span = rollup_span(filter);
  const RollupSpan half_hours = coarse_rollup_span(filter);
  LabelBucketer buckets(filter);
  const int64_t origin = buckets.origin_ms();  // at or before every at_ms counted: the division floors
  std::lock_guard lock(mutex_);
  const auto fold = [&](const pg::Result& r) {
    for (int i = 0; i < r.rows(); ++i) {
      buckets.add(origin + r.int64(i, 0) * bucket, u32(r.int64(i, 1)), u32(r.int64(i, 2) * 32),
                  static_cast<uint64_t>(r.int64(i, 3)));
    }
  };
  if (!half_hours.empty()) {
    fold(run(
        "SELECT (half_hour_ms - $1::bigint) / $2::bigint, label, bin, sum(count)::bigint FROM label_half_hours "
        "WHERE half_hour_ms >= $3 AND half_hour_ms < $4 GROUP BY 1, 2, 3",
        pg::Params().add(origin).add(bucket).add(half_hours.from_ms).add(half_hours.to_ms)));
  }
  if (!span.empty()) {
    count_outside(half_hours, span.from_ms, span.to_ms, [&](int64_t from, int64_t to) {
      if (from >= to) return;
      fold(run("SELECT (minute_ms - $1::bigint) / $2::bigint, label, bin, sum(count)::bigint FROM label_minutes "
               "WHERE minute_ms >= $3 AND minute_ms < $4 GROUP BY 1, 2, 3",
               pg::Params().add(origin).add(bucket).add(from).add(to)));
    });
  }
  const auto count_events = [&](int64_t from, int64_t to) {
    if (from >= to) return;
    Where where;
    where.add(" AND e.at_ms >= ", from);
    where.add(" AND e.at_ms < ", to);
    add_node_filters(where, filter.node_id, filter.group);
    const std::string origin_at = where.placeholder(), bucket_at = where.placeholder();
    where.params.add(origin).add(bucket);
    // The server groups (bucket, label, score bin): only the counts cross the connection.
    fold(run("SELECT (e.at_ms - " + origin_at + "::bigint) / " + bucket_at + "::bigint, e.label, LEAST(e.score / 32, " +
                 std::to_string(kScoreBins - 1) + "), count(*) FROM events e WHERE TRUE" + where.sql +
                 " GROUP BY 1, 2, 3",
             where.params));
  };
  count_outside(span, filter.from_ms, filter.to_ms, count_events);
  return buckets.take();
}

std::vector<LatencyStats> PgQuery::latency_percentiles(const LatencyFilter& filter) {
  // Whole minutes from the rollup (summed over its writers), the window's ends (or all of it) from
  // the events.
  const RollupSpan span = latency_rollup_span(filter.from_ms, filter.to_ms);
  const std::string model = filter.model ? " AND model_id = $3 AND model_version = $4" : "";
  const auto params = [&](int64_t from, int64_t to) {
    pg::Params p;
    p.add(from).add(to);
    if (filter.model) p.add(int64_t{filter.model->first}).add(int64_t{filter.model->second});
    return p;
  };
  std::lock_guard lock(mutex_);
  LatencyHistograms histograms;
  if (!span.empty()) {
    const auto r =
        run("SELECT model_id, model_version, bucket_us, sum(count)::bigint FROM latency_minutes "
            "WHERE minute_ms >= $1 AND minute_ms < $2" +
                model + " GROUP BY 1, 2, 3",
            params(span.from_ms, span.to_ms));
    for (int i = 0; i < r.rows(); ++i)
      histograms.add(u32(r.int64(i, 0)), u32(r.int64(i, 1)), u32(r.int64(i, 2)), static_cast<uint64_t>(r.int64(i, 3)));
  }
  const auto count_events = [&](int64_t from, int64_t to) {
    if (from >= to) return;
    const auto r =
        run("SELECT model_id, model_version, latency_us, count(*) FROM events "
            "WHERE at_ms >= $1 AND at_ms < $2" +
                model + " GROUP BY 1, 2, 3",
            params(from, to));
    for (int i = 0; i < r.rows(); ++i) {
      histograms.add(u32(r.int64(i, 0)), u32(r.int64(i, 1)), latency_bucket(u32(r.int64(i, 2))),
                     static_cast<uint64_t>(r.int64(i, 3)));
    }
  };
  count_outside(span, filter.from_ms, filter.to_ms, count_events);
  return histograms.take();
}

std::vector<NodeRow> PgQuery::read_nodes(const std::optional<std::string>& only) {
  const std::string sql =
      std::string(
          "SELECT n.node_id, n.hardware, n.firmware_version, n.model_id, n.model_version, n.model_name, "
          "n.boot_id, n.bearer, n.first_seen_ms, n.last_seen_ms, n.online, n.state_changed_ms, "
          "(SELECT string_agg(group_name, E'\\n') FROM node_groups g WHERE g.node_ref = n.id) "
          "FROM nodes n") +
      (only ? " WHERE n.node_id = $1" : "") + " ORDER BY n.node_id COLLATE \"C\"";
  pg::Params params;
  if (only) params.add(*only);
  std::lock_guard lock(mutex_);
  const auto r = run(sql, params);
  std::vector<NodeRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    NodeRow row;
    row.node_id = r.text(i, 0);
    row.hardware = r.text(i, 1);
    row.firmware_version = u32(r.int64(i, 2));
    row.model_id = u32(r.int64(i, 3));
    row.model_version = u32(r.int64(i, 4));
    row.model_name = r.text(i, 5);
    row.boot_id = u32(r.int64(i, 6));
    row.bearer = r.text(i, 7);
    row.first_seen_ms = r.int64(i, 8);
    row.last_seen_ms = r.int64(i, 9);
    row.online = r.text(i, 10) == "t";
    row.state_changed_ms = r.int64(i, 11);
    const std::string groups = r.text(i, 12);
    for (size_t pos = 0; pos < groups.size();) {
      size_t end = groups.find('\n', pos);
      if (end == std::string::npos) end = groups.size();
      row.groups.push_back(groups.substr(pos, end - pos));
      pos = end + 1;
    }
    std::sort(row.groups.begin(), row.groups.end());
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<NodeRow> PgQuery::nodes() { return read_nodes(std::nullopt); }

std::vector<std::pair<uint32_t, uint32_t>> PgQuery::model_versions(const std::optional<std::string>& node_id,
                                                                   const std::optional<std::string>& group) {
  // A node is found by its unique id, a group's members by node_groups' key; fleet-wide, the
  // nodes' model index (migration 13) answers without the table once vacuum has marked it visible.
  std::string sql = "SELECT DISTINCT COALESCE(model_id, 0), COALESCE(model_version, 0) FROM nodes WHERE TRUE";
  pg::Params params;
  int n = 0;
  if (node_id) {
    sql += " AND node_id = $" + std::to_string(++n);
    params.add(*node_id);
  }
  if (group) {
    sql += " AND id IN (SELECT node_ref FROM node_groups WHERE group_name = $" + std::to_string(++n) + ")";
    params.add(*group);
  }
  sql += " ORDER BY 1, 2";
  std::lock_guard lock(mutex_);
  const auto r = run(sql, params);
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(u32(r.int64(i, 0)), u32(r.int64(i, 1)));
  return out;
}

std::optional<NodeRow> PgQuery::node(const std::string& node_id) {
  auto rows = read_nodes(node_id);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

uint64_t PgQuery::event_count() {
  std::lock_guard lock(mutex_);
  return static_cast<uint64_t>(run("SELECT count(*) FROM events").int64(0, 0));
}

// Both stop below the ids of batches still open (ingest_claims.h): a cursor moved to what they
// return never passes a batch that commits later. Each statement also returns the horizon, so a
// reader held at a claim sees it with no extra round trip and can clear the claims of writers that
// are gone (clear_dead_claims) before it reads again.
std::vector<EventRow> PgQuery::events_after(int64_t after_id, size_t limit) {
  std::lock_guard lock(mutex_);
  // h has one row whatever the events, so the horizon comes back even when no event does. (Whether
  // events lie beyond it would cost a MAX(id) on every read while writers are busy; a reader at the
  // tail while any claim is open runs the clean-up instead, which is at most once a second.)
  const std::string sql = std::string("WITH h AS (SELECT ") + pg::kTailHorizon + " AS low), r AS (SELECT " +
                          kEventColumns +
                          " FROM events x JOIN nodes n ON n.id = x.node_ref WHERE x.id > $1 AND x.id <= "
                          "COALESCE((SELECT low FROM h), 9223372036854775807) ORDER BY x.id LIMIT $2) "
                          "SELECT r.*, h.low FROM h LEFT JOIN r ON true ORDER BY r.id";
  const pg::Params params = pg::Params().add(after_id).add(static_cast<int64_t>(limit));
  std::vector<EventRow> out;
  for (int pass = 0; pass < 2; ++pass) {
    const auto r = run(sql, params);
    out.clear();
    for (int i = 0; i < r.rows(); ++i) {
      if (!r.is_null(i, 0)) out.push_back(read_event(r, i));
    }
    // Maybe held at a claim: this read reached the horizon (fewer rows than asked for) and a claim is open.
    const bool held = r.rows() > 0 && !r.is_null(0, 13) && out.size() < limit;
    if (pass > 0 || !held || !clear_dead_claims()) break;
  }
  return out;
}

int64_t PgQuery::last_event_id() {
  std::lock_guard lock(mutex_);
  for (int pass = 0;; ++pass) {
    const auto r = run(std::string("SELECT COALESCE(MAX(id), 0), ") + pg::kTailHorizon + " FROM events");
    const int64_t newest = r.int64(0, 0);
    if (r.is_null(0, 1) || r.int64(0, 1) >= newest) return newest;
    if (pass > 0 || !clear_dead_claims()) return r.int64(0, 1);
  }
}

// A writer's claim outlives it when its process was killed mid-batch, and the writers clean such
// claims only at their next batch or start: with no other writer about, readers would wait at it
// for ever. So a held reader deletes the claims whose backend is gone, with the writers' own
// statement (ingest_claims.h says why that is safe in a statement of its own), then reads again in
// a new snapshot. At most once per kDeadClaimInterval per connection: while writers are busy some
// live claim is nearly always there, and each clean-up reads pg_stat_activity. Returns whether it
// ran; a failure (e.g. a role that may not delete) leaves the reader waiting, as before.
bool PgQuery::clear_dead_claims() {
  const auto now = std::chrono::steady_clock::now();
  if (last_clean_ && now - *last_clean_ < kDeadClaimInterval) return false;
  last_clean_ = now;
  try {
    db_->exec(std::string("BEGIN READ WRITE; ") + pg::kCleanDeadClaims + "; COMMIT");
    return true;
  } catch (const pg::Error&) {
    try {
      if (db_->ok()) db_->exec("ROLLBACK");
    } catch (const pg::Error&) {
    }
    return false;
  }
}

// (Postgres indexes these tables by time only: a node's rows are found by scanning back from the
// newest, which is what the node page asks for.)
std::vector<TelemetryRow> PgQuery::telemetry(const std::string& node_id, size_t limit) {
  std::lock_guard lock(mutex_);
  const auto r = run(
      "SELECT t.received_ms, t.boot_id, COALESCE(t.uptime_s, 0), COALESCE(t.inferences, 0), "
      "COALESCE(t.free_ram_bytes, 0), COALESCE(t.last_latency_us, 0), COALESCE(t.dropped_results, 0), "
      "COALESCE(t.pending_results, 0), COALESCE(t.reconnects, 0), COALESCE(t.failed_inferences, 0) FROM telemetry t "
      "WHERE t.node_ref = (SELECT id FROM nodes WHERE node_id = $1) ORDER BY t.received_ms DESC, t.id DESC LIMIT $2",
      pg::Params().add(node_id).add(static_cast<int64_t>(std::clamp<size_t>(limit, 1, 10000))));
  std::vector<TelemetryRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    TelemetryRow row;
    row.received_ms = r.int64(i, 0);
    row.boot_id = u32(r.int64(i, 1));
    row.uptime_s = u32(r.int64(i, 2));
    row.inferences = u32(r.int64(i, 3));
    row.free_ram_bytes = u32(r.int64(i, 4));
    row.last_latency_us = u32(r.int64(i, 5));
    row.dropped_results = u32(r.int64(i, 6));
    row.pending_results = u32(r.int64(i, 7));
    row.reconnects = u32(r.int64(i, 8));
    row.failed_inferences = u32(r.int64(i, 9));
    out.push_back(row);
  }
  return out;
}

std::vector<EnrolledLabelRow> PgQuery::enrolled_labels(const std::string& node_id) {
  std::lock_guard lock(mutex_);
  const auto r =
      run("SELECT e.label, e.position, e.examples_used, e.distance_q14, e.nearest_label, e.enrolled_ms, e.model_id, "
          "e.model_version, e.shared_class FROM enrolled_labels e JOIN nodes n ON n.id = e.node_ref "
          "WHERE n.node_id = $1 "
          "ORDER BY e.position",
          pg::Params().add(node_id));
  std::vector<EnrolledLabelRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.text(i, 0), u32(r.int64(i, 1)), u32(r.int64(i, 2)), u32(r.int64(i, 3)), r.text(i, 4),
                   r.int64(i, 5), u32(r.int64(i, 6)), u32(r.int64(i, 7)), r.text(i, 8)});
  }
  return out;
}

std::vector<OtaStatusRow> PgQuery::ota_history(const std::string& node_id, size_t limit) {
  std::lock_guard lock(mutex_);
  const auto r = run(
      "SELECT o.received_ms, o.boot_id, COALESCE(o.model_id, 0), COALESCE(o.version, 0), COALESCE(o.state, 0), "
      "COALESCE(o.reason, 0), COALESCE(o.bytes_written, 0), COALESCE(o.total_bytes, 0), "
      "COALESCE(o.active_version, 0) FROM ota_status o WHERE o.node_ref = (SELECT id FROM nodes WHERE node_id = $1) "
      "ORDER BY o.received_ms DESC, o.id DESC LIMIT $2",
      pg::Params().add(node_id).add(static_cast<int64_t>(std::clamp<size_t>(limit, 1, 10000))));
  std::vector<OtaStatusRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    OtaStatusRow row;
    row.received_ms = r.int64(i, 0);
    row.boot_id = u32(r.int64(i, 1));
    row.model_id = u32(r.int64(i, 2));
    row.version = u32(r.int64(i, 3));
    row.state = u32(r.int64(i, 4));
    row.reason = u32(r.int64(i, 5));
    row.bytes_written = u32(r.int64(i, 6));
    row.total_bytes = u32(r.int64(i, 7));
    row.active_version = u32(r.int64(i, 8));
    out.push_back(row);
  }
  return out;
}

std::vector<EnrollmentLogRow> PgQuery::enrollment_log(const std::string& node_id, size_t limit) {
  std::lock_guard lock(mutex_);
  const auto r =
      run("SELECT l.received_ms, l.action, l.refusal, l.label, l.examples_used, l.distance_q14, l.nearest_label "
          "FROM enrollment_log l JOIN nodes n ON n.id = l.node_ref WHERE n.node_id = $1 "
          "ORDER BY l.id DESC LIMIT $2",
          pg::Params().add(node_id).add(static_cast<int64_t>(std::clamp<size_t>(limit, 1, 1000))));
  std::vector<EnrollmentLogRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.int64(i, 0), u32(r.int64(i, 1)), u32(r.int64(i, 2)), r.text(i, 3), u32(r.int64(i, 4)),
                   u32(r.int64(i, 5)), r.text(i, 6)});
  }
  return out;
}

}  // namespace tinyedge::gateway
