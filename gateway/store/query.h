// Events and nodes out: the read side of the store, for the dashboard API and the rollouts'
// quality gate. Each Query is one read connection of its own that sees only committed data and
// never blocks the writer. Thread-safe (calls serialise on an internal mutex); open one Query per
// thread for parallel reads (backend.h: open_query).
//
// Pagination: events come newest first; EventPage::next_cursor is the id to pass as
// EventFilter::before_id for the next page. Event ids only ever increase, so pages stay stable
// while new events arrive (new ones appear only on a fresh first page).
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tinyedge::gateway {

struct EventFilter {
  std::optional<std::string> node_id;
  std::optional<std::string> group;  // nodes tagged with this group
  std::optional<int64_t> from_ms;    // at_ms >= from_ms (inference time, Unix ms)
  std::optional<int64_t> to_ms;      // at_ms < to_ms
  std::optional<uint32_t> label;
  std::optional<uint32_t> min_score;  // 0..255
  std::optional<int64_t> before_id;   // cursor: only events with id < before_id
  size_t limit = 100;                 // clamped to 1..10000
};

struct EventRow {
  int64_t id = 0;
  std::string node_id;
  uint32_t boot_id = 0, seq = 0;
  int64_t at_ms = 0, received_ms = 0;
  uint32_t model_id = 0, model_version = 0;
  uint32_t label = 0, score = 0, latency_us = 0, sample_id = 0;
  std::vector<std::pair<uint32_t, uint32_t>> runners_up;  // (label, score)
};

struct EventPage {
  std::vector<EventRow> events;
  std::optional<int64_t> next_cursor;  // absent on the last page
};

// Counts events with from_ms <= at_ms < to_ms, whatever the window's ends (any millisecond), in
// buckets that lie on multiples of bucket_ms since the Unix epoch: the first and the last bucket
// may reach outside the window and then count only the part inside it.
struct LabelStatsFilter {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  int64_t bucket_ms = 60000;
  std::optional<std::string> node_id;
  std::optional<std::string> group;
};

inline constexpr size_t kScoreBins = 8;  // score histogram: bins of 32 over 0..255

struct LabelBucket {
  int64_t bucket_start_ms = 0;
  uint32_t label = 0;
  uint64_t count = 0;
  std::array<uint64_t, kScoreBins> score_histogram{};
};

// A latency window, fleet-wide or of one model version (the model page's).
struct LatencyFilter {
  int64_t from_ms = 0, to_ms = 0;                      // inference time, [from_ms, to_ms)
  std::optional<std::pair<uint32_t, uint32_t>> model;  // (model id, version): only its events
};

// Percentiles come from latency buckets (latency_bucket below): at most 1/16 below the latency.
struct LatencyStats {
  uint32_t model_id = 0, model_version = 0;
  uint64_t count = 0;
  uint32_t p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;
};

struct NodeRow {
  std::string node_id;
  std::string hardware;
  uint32_t firmware_version = 0, model_id = 0, model_version = 0;
  std::string model_name;
  uint32_t boot_id = 0;
  std::string bearer;  // "mqtt" or the serial endpoint it was last seen on
  int64_t first_seen_ms = 0, last_seen_ms = 0;
  bool online = false;
  int64_t state_changed_ms = 0;
  std::vector<std::string> groups;
};

// One Telemetry message as stored (counters are the node's own, since its boot boot_id).
struct TelemetryRow {
  int64_t received_ms = 0;
  uint32_t boot_id = 0;
  uint32_t uptime_s = 0, inferences = 0, free_ram_bytes = 0, last_latency_us = 0, dropped_results = 0,
           pending_results = 0, reconnects = 0, failed_inferences = 0;
};

// One OtaStatus message as stored: where an update stood on the node when it said so.
struct OtaStatusRow {
  int64_t received_ms = 0;
  uint32_t boot_id = 0;
  uint32_t model_id = 0, version = 0, state = 0, reason = 0, bytes_written = 0, total_bytes = 0, active_version = 0;
};

// One class a node enrolled (store/records.h, EnrollmentItem). `position` is its place in the
// node's class table: the node reports it as label index (trained classes) + position.
struct EnrolledLabelRow {
  std::string label;
  uint32_t position = 0;
  uint32_t examples_used = 0;  // 0: enrolled before the gateway saw its start (known from a list)
  uint32_t distance_q14 = 0;   // 1 - cosine to the nearest other prototype at enrollment, Q14
  std::string nearest_label;
  int64_t enrolled_ms = 0;  // when the gateway stored the node's answer
  uint32_t model_id = 0, model_version = 0;
  std::string shared_class;  // hex of the node's SharedClass report (records.h); empty if none yet
};

// Every EnrollmentStatus a node sent, refusals included, newest first.
struct EnrollmentLogRow {
  int64_t received_ms = 0;
  uint32_t action = 0, refusal = 0;
  std::string label;
  uint32_t examples_used = 0, distance_q14 = 0;
  std::string nearest_label;
};

class Query {
 public:
  virtual ~Query() = default;

  virtual EventPage events(const EventFilter& filter) = 0;
  virtual std::vector<LabelBucket> label_stats(const LabelStatsFilter& filter) = 0;
  // One row per model version with events in the window (only the filter's model, if it names
  // one), by model id and version.
  virtual std::vector<LatencyStats> latency_percentiles(const LatencyFilter& filter) = 0;
  virtual std::vector<NodeRow> nodes() = 0;
  // The (model id, version) pairs the nodes in scope run now (every node, one node, or a group's
  // members), ascending: what the label statistics name labels from. One query on the nodes'
  // model index (a node's model unknown: 0, 0) instead of reading every node and its groups.
  virtual std::vector<std::pair<uint32_t, uint32_t>> model_versions(const std::optional<std::string>& node_id,
                                                                    const std::optional<std::string>& group) = 0;
  virtual std::optional<NodeRow> node(const std::string& node_id) = 0;
  virtual uint64_t event_count() = 0;
  // For readers that follow the log (the quality gate): events with id > after_id of known
  // nodes, oldest first, at most `limit`; and the newest id stored (0 if none).
  virtual std::vector<EventRow> events_after(int64_t after_id, size_t limit) = 0;
  virtual int64_t last_event_id() = 0;
  // A node's newest Telemetry and OtaStatus messages, newest first, at most `limit` (clamped to
  // 1..10000); empty for an unknown node.
  virtual std::vector<TelemetryRow> telemetry(const std::string& node_id, size_t limit) = 0;
  virtual std::vector<OtaStatusRow> ota_history(const std::string& node_id, size_t limit) = 0;
  // A node's enrolled classes by position (empty for an unknown node), and its last `limit`
  // enrollment answers, newest first.
  virtual std::vector<EnrolledLabelRow> enrolled_labels(const std::string& node_id) = 0;
  virtual std::vector<EnrollmentLogRow> enrollment_log(const std::string& node_id, size_t limit) = 0;
};

// Both backends keep per-minute counts per label and score bin (the rollup), written in the
// transaction that writes the events and taken away with them by retention, so label statistics
// over a long window read a few thousand rollup rows instead of every event.
inline constexpr int64_t kRollupMs = 60000;

// The part of a label-stats window the rollup can answer: the whole minutes in it (buckets of whole
// minutes lie on the minute grid, so each of those minutes falls inside one bucket). Empty
// (from == to) when the filter names a node or a group (the rollup is fleet-wide) or when buckets
// are not whole minutes. The rest of the window, the partial minutes at its two ends (or all of
// it), is counted from the events (count_outside below), through an index on the inference time
// that bounds each end to at most a minute of events.
struct RollupSpan {
  int64_t from_ms = 0, to_ms = 0;
  bool empty() const { return from_ms >= to_ms; }
};
RollupSpan rollup_span(const LabelStatsFilter& filter);

// Beside the minutes, both backends keep the same counts per half hour (label_half_hours, written
// and taken back with the minutes), so a day's statistics read 48 x labels x 8 rows instead of
// 1,440 x labels x 8 (~115,000 at 10 labels). A half hour, not an hour: the dashboard's default
// bucket for 12 h and 24 h windows is 30 minutes, and half hours also make up every longer bucket
// (1 h, 3 h, 1 day). Whole half hours inside the minute span (query.h, rollup_span) come from
// here, the minutes at the span's two ends from label_minutes, the partial minutes from events.
inline constexpr int64_t kCoarseRollupMs = 1'800'000;

// The whole half hours inside rollup_span(filter): empty when that is empty or when the buckets
// are not whole half hours (a half hour would then straddle two buckets).
RollupSpan coarse_rollup_span(const LabelStatsFilter& filter);

// Shared by the backends: the rows of a label-stats window, folded into buckets.
class LabelBucketer {
 public:
  explicit LabelBucketer(const LabelStatsFilter& filter);
  // The start of the bucket holding from_ms: every event counted is at or after it, so the
  // backends' SQL may take (at_ms - origin) / bucket_ms as the bucket's index.
  int64_t origin_ms() const { return origin_ms_; }
  void add(int64_t at_ms, uint32_t label, uint32_t score, uint64_t count = 1);
  std::vector<LabelBucket> take();  // sorted by bucket start, then label

 private:
  int64_t origin_ms_, bucket_ms_;
  std::vector<LabelBucket> out_;
  std::unordered_map<uint64_t, size_t> slot_;  // (bucket index, label) -> position in out_
};

// Latency rollup: both backends also keep per-minute counts per model version and latency
// bucket (latency_minutes, written with the events and taken away with them), so a day's latency
// percentiles read at most 1,440 minutes x a few dozen buckets per model instead of every event.
// A bucket is named by its lowest latency: below 32 us every value is its own bucket; above,
// each power of two is cut into 16 (the top 5 significant bits kept), so a percentile read from
// buckets is at most 6.25 % below the exact one. The SQL form is TINYEDGE_LATENCY_BUCKET_SQL
// (latency_bucket_sql.h); the two must agree.
uint32_t latency_bucket(uint32_t latency_us);

// The whole minutes inside [from_ms, to_ms): what the latency rollup answers; the ends outside it
// (or all the window, when it is empty) are counted from the events.
RollupSpan latency_rollup_span(int64_t from_ms, int64_t to_ms);

// Calls count(from, to) for each part of [from_ms, to_ms) outside `span`: the whole window when
// the span is empty, else the two ends the rollup cannot answer.
template <class CountEvents>
void count_outside(const RollupSpan& span, int64_t from_ms, int64_t to_ms, CountEvents&& count) {
  if (span.empty()) {
    count(from_ms, to_ms);
  } else {
    count(from_ms, span.from_ms);
    count(span.to_ms, to_ms);
  }
}

// Shared by the backends: (model, version, bucket) counts from the rollup and the events, folded
// into one histogram per model version.
class LatencyHistograms {
 public:
  void add(uint32_t model_id, uint32_t model_version, uint32_t bucket_us, uint64_t count);
  std::vector<LatencyStats> take();  // by model id, then version

 private:
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, uint64_t> counts_;
};

// Nearest-rank percentiles of one model from its (latency, count) histogram, ascending latency.
LatencyStats latency_stats(uint32_t model_id, uint32_t model_version,
                           const std::vector<std::pair<uint32_t, uint64_t>>& histogram);

// Parses "3:40,7:12"; malformed pieces are skipped rather than failing a whole page.
std::vector<std::pair<uint32_t, uint32_t>> parse_runners_up(const std::string& text);

}  // namespace tinyedge::gateway
