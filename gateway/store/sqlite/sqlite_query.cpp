#include "gateway/store/sqlite/sqlite_query.h"

#include <algorithm>
#include <unordered_map>
#include <variant>

namespace tinyedge::gateway {

SqliteQuery::SqliteQuery(const std::string& db_path)
    : db_(std::make_unique<sql::Database>(db_path, sql::Database::Mode::kReadOnly)) {}

SqliteQuery::~SqliteQuery() = default;

sql::Statement& SqliteQuery::statement(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(sql, db_->prepare(sql)).first;
  return it->second;
}

namespace {

// Collects WHERE clauses with their bound values, in order.
struct Where {
  std::string sql;
  std::vector<std::variant<int64_t, std::string>> values;
  void add(const char* clause, int64_t v) { sql += clause, values.emplace_back(v); }
  void add(const char* clause, const std::string& v) { sql += clause, values.emplace_back(v); }
  int bind(sql::Statement& s) const {
    int index = 1;
    for (const auto& v : values) {
      if (const auto* i = std::get_if<int64_t>(&v)) s.bind(index++, *i);
      else s.bind(index++, std::get<std::string>(v));
    }
    return index;
  }
};

void add_node_filters(Where& where, const std::optional<std::string>& node, const std::optional<std::string>& group) {
  if (node) where.add(" AND e.node_ref = (SELECT id FROM nodes WHERE node_id = ?)", *node);
  if (group) where.add(" AND e.node_ref IN (SELECT node_ref FROM node_groups WHERE group_name = ?)", *group);
}

uint32_t u32(int64_t v) { return static_cast<uint32_t>(std::clamp<int64_t>(v, 0, UINT32_MAX)); }

// The columns of build_events' outer SELECT and of events_after, in that order.
EventRow read_event(const sql::Statement& s) {
  EventRow row;
  row.id = s.int64(0);
  row.node_id = s.text(1);
  row.boot_id = u32(s.int64(2));
  row.seq = u32(s.int64(3));
  row.at_ms = s.int64(4);
  row.received_ms = s.int64(5);
  row.model_id = u32(s.int64(6));
  row.model_version = u32(s.int64(7));
  row.label = u32(s.int64(8));
  row.score = u32(s.int64(9));
  if (!s.is_null(10)) row.runners_up = parse_runners_up(s.text(10));
  row.latency_us = u32(s.int64(11));
  row.sample_id = u32(s.int64(12));
  return row;
}

struct Built {
  std::string sql;
  Where where;
};

Built build_events(const EventFilter& filter) {
  Built b;
  auto& where = b.where;
  add_node_filters(where, filter.node_id, filter.group);
  if (filter.from_ms) where.add(" AND e.at_ms >= ?", *filter.from_ms);
  if (filter.to_ms) where.add(" AND e.at_ms < ?", *filter.to_ms);
  if (filter.label) where.add(" AND e.label = ?", int64_t{*filter.label});
  if (filter.min_score) where.add(" AND e.score >= ?", int64_t{*filter.min_score});
  if (filter.before_id) where.add(" AND e.id < ?", *filter.before_id);
  // A node or group filter with a score floor but no time or label: SQLite would pick
  // events_by_node_time because it holds score (covering), then sort every event of those nodes;
  // walking events_by_node_id newest first stops after the page (130 ms -> 20 ms at 10M events).
  const bool by_node_id = (filter.node_id || filter.group) && !filter.from_ms && !filter.to_ms && !filter.label;
  const std::string index_hint = by_node_id ? " INDEXED BY events_by_node_id" : "";
  // Two steps: the ids of the page first (often from an index alone, e.g. a time window through
  // events_by_time without touching the table), then only those rows. The inner step has no join
  // so that its indexes stay covering; events of unknown nodes come back with a NULL node_id and
  // are left out of the page, but still move the cursor.
  b.sql = "SELECT x.id, n.node_id, x.boot_id, x.seq, x.at_ms, x.received_ms, x.model_id, x.model_version, x.label, "
          "x.score, x.runners_up, x.latency_us, x.sample_id FROM events x LEFT JOIN nodes n ON n.id = x.node_ref "
          "WHERE x.id IN (SELECT e.id FROM events e" + index_hint + " WHERE 1" +
          where.sql + " ORDER BY e.id DESC LIMIT ?) ORDER BY x.id DESC";
  return b;
}

Built build_label_stats(const LabelStatsFilter& filter) {
  Built b;
  b.where.add(" AND e.at_ms >= ?", filter.from_ms);
  b.where.add(" AND e.at_ms < ?", filter.to_ms);
  add_node_filters(b.where, filter.node_id, filter.group);
  // Rows, not groups: SQLite would sort every row to GROUP BY; a hash in C++ is several times faster.
  b.sql = "SELECT e.at_ms, e.label, e.score FROM events e WHERE 1" + b.where.sql;
  return b;
}

}  // namespace

std::string events_sql(const EventFilter& filter) { return build_events(filter).sql; }
std::string label_stats_sql(const LabelStatsFilter& filter) { return build_label_stats(filter).sql; }

EventPage SqliteQuery::events(const EventFilter& filter) {
  const Built built = build_events(filter);
  const auto& where = built.where;
  const auto& sql = built.sql;
  const size_t limit = std::clamp<size_t>(filter.limit, 1, 10000);
  std::lock_guard lock(mutex_);
  if (filter.node_id && filter.group) {
    // A node outside the group matches nothing: say so at once instead of scanning its events.
    auto& member = statement("SELECT 1 FROM node_groups g JOIN nodes n ON n.id = g.node_ref "
                             "WHERE n.node_id = ?1 AND g.group_name = ?2");
    member.bind(1, *filter.node_id).bind(2, *filter.group);
    const bool in_group = member.step();
    member.reset();
    if (!in_group) return {};
  }
  auto& s = statement(sql);
  const int next = where.bind(s);
  s.bind(next, static_cast<int64_t>(limit + 1));  // one extra row tells whether a next page exists
  EventPage page;
  size_t seen = 0;
  int64_t last_id = 0;
  while (s.step()) {
    if (seen == limit) {
      page.next_cursor = last_id;
      break;
    }
    ++seen;
    last_id = s.int64(0);
    if (s.is_null(1)) continue;  // an event of a node the nodes table does not know
    page.events.push_back(read_event(s));
  }
  s.reset();
  return page;
}

std::vector<LabelBucket> SqliteQuery::label_stats(const LabelStatsFilter& filter) {
  // Whole half hours from their rollup, the whole minutes at the ends of those (or of the window,
  // when its buckets are not whole half hours) from the minutes' rollup, and the partial minutes
  // at the window's two ends (or all of it) from the events, each end through events_by_time's
  // range on at_ms (at most a minute of events).
  const RollupSpan minutes = rollup_span(filter);
  const RollupSpan half_hours = coarse_rollup_span(filter);
  const Built built = build_label_stats(filter);
  std::lock_guard lock(mutex_);
  LabelBucketer buckets(filter);
  const auto read_rollup = [&](const std::string& sql, int64_t from, int64_t to) {
    if (from >= to) return;
    auto& r = statement(sql);
    r.bind(1, from).bind(2, to);
    while (r.step()) {
      buckets.add(r.int64(0), u32(r.int64(1)), u32(r.int64(2) * 32), static_cast<uint64_t>(r.int64(3)));
    }
    r.reset();
  };
  if (!half_hours.empty()) {
    read_rollup("SELECT half_hour_ms, label, bin, count FROM label_half_hours "
                "WHERE half_hour_ms >= ?1 AND half_hour_ms < ?2",
                half_hours.from_ms, half_hours.to_ms);
  }
  if (!minutes.empty()) {
    count_outside(half_hours, minutes.from_ms, minutes.to_ms, [&](int64_t from, int64_t to) {
      read_rollup("SELECT minute_ms, label, bin, count FROM label_minutes WHERE minute_ms >= ?1 AND minute_ms < ?2",
                  from, to);
    });
  }
  auto& s = statement(built.sql);
  const auto count_events = [&](int64_t from, int64_t to) {
    if (from >= to) return;
    built.where.bind(s);
    s.bind(1, from).bind(2, to);  // the window's bounds are the first two values bound
    while (s.step()) buckets.add(s.int64(0), u32(s.int64(1)), u32(s.int64(2)));
    s.reset();
  };
  count_outside(minutes, filter.from_ms, filter.to_ms, count_events);
  return buckets.take();
}

std::vector<LatencyStats> SqliteQuery::latency_percentiles(const LatencyFilter& filter) {
  // Whole minutes from the rollup, the window's ends (or all of it) from the events.
  const RollupSpan span = latency_rollup_span(filter.from_ms, filter.to_ms);
  const std::string model = filter.model ? " AND model_id = ?3 AND model_version = ?4" : "";
  const auto bind_model = [&](sql::Statement& s) {
    if (filter.model)
      s.bind(3, static_cast<int64_t>(filter.model->first)).bind(4, static_cast<int64_t>(filter.model->second));
  };
  std::lock_guard lock(mutex_);
  LatencyHistograms histograms;
  if (!span.empty()) {
    // Rows, not groups: SQLite would sort every rollup row (a day: ~115,000 at 10,000 nodes) to
    // GROUP BY; LatencyHistograms sums them as they come.
    auto& r = statement(
        "SELECT model_id, model_version, bucket_us, count FROM latency_minutes "
        "WHERE minute_ms >= ?1 AND minute_ms < ?2" +
        model);
    r.bind(1, span.from_ms).bind(2, span.to_ms);
    bind_model(r);
    while (r.step())
      histograms.add(u32(r.int64(0)), u32(r.int64(1)), u32(r.int64(2)), static_cast<uint64_t>(r.int64(3)));
    r.reset();
  }
  auto& e = statement(
      "SELECT model_id, model_version, latency_us, count(*) FROM events "
      "WHERE at_ms >= ?1 AND at_ms < ?2" +
      model + " GROUP BY 1, 2, 3");
  const auto count_events = [&](int64_t from, int64_t to) {
    if (from >= to) return;
    e.bind(1, from).bind(2, to);
    bind_model(e);
    while (e.step()) {
      histograms.add(u32(e.int64(0)), u32(e.int64(1)), latency_bucket(u32(e.int64(2))),
                     static_cast<uint64_t>(e.int64(3)));
    }
    e.reset();
  };
  count_outside(span, filter.from_ms, filter.to_ms, count_events);
  return histograms.take();
}

std::vector<NodeRow> SqliteQuery::read_nodes(const std::optional<std::string>& only) {
  // node_groups' key is (group_name, node_ref): a node's groups are a scan of the whole table, so
  // the groups are read in one pass beside the nodes instead of one correlated scan per node (at
  // 10,000 nodes that was 10,000 scans of 20,000 rows, seconds per fleet listing).
  const std::string sql =
      std::string("SELECT n.node_id, n.hardware, n.firmware_version, n.model_id, n.model_version, n.model_name, "
                  "n.boot_id, n.bearer, n.first_seen_ms, n.last_seen_ms, n.online, n.state_changed_ms, n.id "
                  "FROM nodes n") +
      (only ? " WHERE n.node_id = ?1" : "") + " ORDER BY n.node_id";
  std::lock_guard lock(mutex_);
  auto& s = statement(sql);
  if (only) s.bind(1, *only);
  std::vector<NodeRow> out;
  std::unordered_map<int64_t, size_t> by_ref;
  while (s.step()) {
    NodeRow row;
    row.node_id = s.text(0);
    row.hardware = s.text(1);
    row.firmware_version = u32(s.int64(2));
    row.model_id = u32(s.int64(3));
    row.model_version = u32(s.int64(4));
    row.model_name = s.text(5);
    row.boot_id = u32(s.int64(6));
    row.bearer = s.text(7);
    row.first_seen_ms = s.int64(8);
    row.last_seen_ms = s.int64(9);
    row.online = s.int64(10) != 0;
    row.state_changed_ms = s.int64(11);
    by_ref.emplace(s.int64(12), out.size());
    out.push_back(std::move(row));
  }
  s.reset();
  if (out.empty()) return out;
  auto& g = only ? statement("SELECT node_ref, group_name FROM node_groups WHERE node_ref = ?1")
                 : statement("SELECT node_ref, group_name FROM node_groups");
  if (only) g.bind(1, by_ref.begin()->first);
  while (g.step()) {
    const auto it = by_ref.find(g.int64(0));
    if (it != by_ref.end()) out[it->second].groups.push_back(g.text(1));
  }
  g.reset();
  for (auto& row : out) std::sort(row.groups.begin(), row.groups.end());
  return out;
}

std::vector<NodeRow> SqliteQuery::nodes() { return read_nodes(std::nullopt); }

std::vector<std::pair<uint32_t, uint32_t>> SqliteQuery::model_versions(const std::optional<std::string>& node_id,
                                                                       const std::optional<std::string>& group) {
  // nodes_by_model (migration 13) holds both columns: the fleet's versions are a scan of that
  // index alone; a node is found by its unique id, a group's members by node_groups' key.
  std::string sql = "SELECT DISTINCT coalesce(model_id, 0), coalesce(model_version, 0) FROM nodes WHERE 1";
  if (node_id) sql += " AND node_id = ?1";
  if (group) sql += std::string(" AND id IN (SELECT node_ref FROM node_groups WHERE group_name = ?") +
                    (node_id ? "2" : "1") + ")";
  sql += " ORDER BY 1, 2";
  std::lock_guard lock(mutex_);
  auto& s = statement(sql);
  int index = 1;
  if (node_id) s.bind(index++, *node_id);
  if (group) s.bind(index++, *group);
  std::vector<std::pair<uint32_t, uint32_t>> out;
  while (s.step()) out.emplace_back(u32(s.int64(0)), u32(s.int64(1)));
  s.reset();
  return out;
}

std::optional<NodeRow> SqliteQuery::node(const std::string& node_id) {
  auto rows = read_nodes(node_id);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::vector<EventRow> SqliteQuery::events_after(int64_t after_id, size_t limit) {
  std::lock_guard lock(mutex_);
  auto& s = statement(
      "SELECT e.id, n.node_id, e.boot_id, e.seq, e.at_ms, e.received_ms, e.model_id, e.model_version, e.label, "
      "e.score, e.runners_up, e.latency_us, e.sample_id FROM events e JOIN nodes n ON n.id = e.node_ref "
      "WHERE e.id > ?1 ORDER BY e.id LIMIT ?2");
  s.bind(1, after_id).bind(2, static_cast<int64_t>(limit));
  std::vector<EventRow> out;
  while (s.step()) out.push_back(read_event(s));
  s.reset();
  return out;
}

int64_t SqliteQuery::last_event_id() {
  std::lock_guard lock(mutex_);
  auto& s = statement("SELECT IFNULL(MAX(id), 0) FROM events");
  const int64_t id = s.step() ? s.int64(0) : 0;
  s.reset();
  return id;
}

std::vector<EnrolledLabelRow> SqliteQuery::enrolled_labels(const std::string& node_id) {
  std::lock_guard lock(mutex_);
  auto& s = statement(
      "SELECT e.label, e.position, e.examples_used, e.distance_q14, e.nearest_label, e.enrolled_ms, e.model_id, "
      "e.model_version, e.shared_class FROM enrolled_labels e JOIN nodes n ON n.id = e.node_ref WHERE n.node_id = ?1 "
      "ORDER BY e.position");
  s.bind(1, node_id);
  std::vector<EnrolledLabelRow> out;
  while (s.step()) {
    out.push_back({s.text(0), u32(s.int64(1)), u32(s.int64(2)), u32(s.int64(3)), s.text(4), s.int64(5), u32(s.int64(6)),
                   u32(s.int64(7)), s.text(8)});
  }
  s.reset();
  return out;
}

std::vector<EnrollmentLogRow> SqliteQuery::enrollment_log(const std::string& node_id, size_t limit) {
  std::lock_guard lock(mutex_);
  auto& s = statement(
      "SELECT l.received_ms, l.action, l.refusal, l.label, l.examples_used, l.distance_q14, l.nearest_label "
      "FROM enrollment_log l JOIN nodes n ON n.id = l.node_ref WHERE n.node_id = ?1 "
      "ORDER BY l.id DESC LIMIT ?2");
  s.bind(1, node_id).bind(2, static_cast<int64_t>(std::clamp<size_t>(limit, 1, 1000)));
  std::vector<EnrollmentLogRow> out;
  while (s.step()) {
    out.push_back(
        {s.int64(0), u32(s.int64(1)), u32(s.int64(2)), s.text(3), u32(s.int64(4)), u32(s.int64(5)), s.text(6)});
  }
  s.reset();
  return out;
}

uint64_t SqliteQuery::event_count() {
  std::lock_guard lock(mutex_);
  auto& s = statement("SELECT count(*) FROM events");
  const uint64_t n = s.step() ? static_cast<uint64_t>(s.int64(0)) : 0;
  s.reset();
  return n;
}

std::vector<TelemetryRow> SqliteQuery::telemetry(const std::string& node_id, size_t limit) {
  std::lock_guard lock(mutex_);
  auto& s = statement(
      "SELECT t.received_ms, t.boot_id, t.uptime_s, t.inferences, t.free_ram_bytes, t.last_latency_us, "
      "t.dropped_results, t.pending_results, t.reconnects, t.failed_inferences FROM telemetry t "
      "WHERE t.node_ref = (SELECT id FROM nodes WHERE node_id = ?1) ORDER BY t.received_ms DESC, t.id DESC LIMIT ?2");
  s.bind(1, node_id).bind(2, static_cast<int64_t>(std::clamp<size_t>(limit, 1, 10000)));
  std::vector<TelemetryRow> out;
  while (s.step()) {
    TelemetryRow row;
    row.received_ms = s.int64(0);
    row.boot_id = u32(s.int64(1));
    row.uptime_s = u32(s.int64(2));
    row.inferences = u32(s.int64(3));
    row.free_ram_bytes = u32(s.int64(4));
    row.last_latency_us = u32(s.int64(5));
    row.dropped_results = u32(s.int64(6));
    row.pending_results = u32(s.int64(7));
    row.reconnects = u32(s.int64(8));
    row.failed_inferences = u32(s.int64(9));  // NULL in rows older than migration 5: read as 0
    out.push_back(row);
  }
  s.reset();
  return out;
}

std::vector<OtaStatusRow> SqliteQuery::ota_history(const std::string& node_id, size_t limit) {
  std::lock_guard lock(mutex_);
  auto& s = statement(
      "SELECT o.received_ms, o.boot_id, o.model_id, o.version, o.state, o.reason, o.bytes_written, o.total_bytes, "
      "o.active_version FROM ota_status o WHERE o.node_ref = (SELECT id FROM nodes WHERE node_id = ?1) "
      "ORDER BY o.received_ms DESC, o.id DESC LIMIT ?2");
  s.bind(1, node_id).bind(2, static_cast<int64_t>(std::clamp<size_t>(limit, 1, 10000)));
  std::vector<OtaStatusRow> out;
  while (s.step()) {
    OtaStatusRow row;
    row.received_ms = s.int64(0);
    row.boot_id = u32(s.int64(1));
    row.model_id = u32(s.int64(2));
    row.version = u32(s.int64(3));
    row.state = u32(s.int64(4));
    row.reason = u32(s.int64(5));
    row.bytes_written = u32(s.int64(6));
    row.total_bytes = u32(s.int64(7));
    row.active_version = u32(s.int64(8));
    out.push_back(row);
  }
  s.reset();
  return out;
}

}  // namespace tinyedge::gateway
