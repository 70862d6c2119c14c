#include "gateway/drift/drift_monitor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "gateway/drift/baseline_codec.h"

namespace tinyedge::drift {
namespace {

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

constexpr size_t kReadBatch = 5000;
constexpr int kMaxBatchesPerPoll = 40;         // then let the next poll continue: stop() stays prompt
constexpr int64_t kGroupsRefreshMs = 5000;     // groups change by operator action: seconds are fine
constexpr int64_t kNewNodeRefreshMs = 1000;    // a node not seen before: read its groups soon, not in 5 s
constexpr int64_t kBaselinesRefreshMs = 5000;  // another gateway's formed baseline: seconds are fine

}  // namespace

std::string to_string(const DriftKey& key) {
  return "model " + std::to_string(key.model_id) + " v" + std::to_string(key.version) +
         (key.group.empty() ? " ungrouped" : " group " + key.group);
}

DriftMonitor::DriftMonitor(DriftOptions options, QueryOpener open_query, gateway::Logger& log,
                           BaselineOpener open_baselines)
    : options_(options), open_query_(std::move(open_query)), log_(log), open_baselines_(std::move(open_baselines)) {}

DriftMonitor::~DriftMonitor() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DriftMonitor::start(int period_ms) {
  thread_ = std::thread([this, period_ms] {
    std::unique_lock lock(wake_mutex_);
    while (!stopping_) {
      lock.unlock();
      poll();
      lock.lock();
      wake_.wait_for(lock, std::chrono::milliseconds(period_ms), [this] { return stopping_; });
    }
  });
}

void DriftMonitor::poll() {
  // The stored baselines first: results fed before them would start learning anew.
  if (!baselines_loaded_) sync_baselines();
  // A store out of reach (a restarting PostgreSQL) is said once, and the watch resumes where it
  // stopped when the store answers again: the cursor is the last result fed.
  try {
    if (!query_) query_ = open_query_();
    if (cursor_ < 0) cursor_ = query_->last_event_id();
    if (wall_ms() - groups_read_ms_ >= kGroupsRefreshMs) refresh_groups();
    for (int batch = 0; batch < kMaxBatchesPerPoll; ++batch) {
      const std::vector<gateway::EventRow> rows = query_->events_after(cursor_, kReadBatch);
      for (const auto& row : rows) {
        cursor_ = row.id;
        feed(row);
      }
      if (rows.size() < kReadBatch) break;
    }
    feed_inputs();
    if (store_failing_) log_.info("drift", "store answers again; watching resumed");
    store_failing_ = false;
  } catch (const std::exception& e) {
    if (!store_failing_) log_.warn("drift", "cannot read results; will retry", {{"error", e.what()}});
    store_failing_ = true;
    query_.reset();
  }
  sync_baselines();
}

void DriftMonitor::sync_baselines() {
  if (!open_baselines_) return;
  std::vector<DriftKey> forgotten;
  try {
    if (!baselines_) baselines_ = open_baselines_();
    if (!baselines_loaded_) {
      const auto records = baselines_->load(kMaxWatches);
      adopt(records, true);
      baselines_loaded_ = true;
      baselines_read_ms_ = wall_ms();
      log_.info("drift", "baselines loaded", {{"watches", static_cast<int64_t>(records.size())}});
    }
    const int64_t now = wall_ms();
    std::vector<gateway::DriftBaselineRecord> grown;
    bool learning = false;
    {
      std::lock_guard lock(mutex_);
      forgotten.swap(forgotten_);
      for (const auto& [key, watch] : watches_) {
        learning |= watch.detector.learning() || watch.input.learning();
        const ResultBaseline results = watch.detector.baseline();
        const InputBaseline inputs = watch.input.baseline();
        if (results.results == watch.saved_results && inputs.periods == watch.saved_periods) continue;
        grown.push_back({key.model_id, key.version, key.group, results.results, encode(results), inputs.periods,
                         encode(inputs), now});
      }
    }
    for (const auto& key : forgotten) baselines_->forget(key.model_id, key.version, key.group);
    forgotten.clear();
    if (!grown.empty()) {
      baselines_->save(grown, kMaxWatches);
      std::lock_guard lock(mutex_);
      for (const auto& r : grown) {
        auto it = watches_.find({r.model_id, r.model_version, r.group});
        if (it == watches_.end()) continue;
        it->second.saved_results = r.results;
        it->second.saved_periods = r.periods;
      }
    }
    if (learning && now - baselines_read_ms_ >= kBaselinesRefreshMs) {
      adopt(baselines_->load(kMaxWatches), false);
      baselines_read_ms_ = now;
    }
    if (baselines_failing_) log_.info("drift", "baselines stored again");
    baselines_failing_ = false;
  } catch (const std::exception& e) {
    if (!baselines_failing_)
      log_.warn("drift", "cannot read or write the stored baselines; will retry", {{"error", e.what()}});
    baselines_failing_ = true;
    baselines_.reset();
    std::lock_guard lock(mutex_);  // the deletes not done yet are done next pass
    forgotten_.insert(forgotten_.end(), forgotten.begin(), forgotten.end());
  }
}

void DriftMonitor::adopt(const std::vector<gateway::DriftBaselineRecord>& records, bool at_start) {
  const int64_t now = wall_ms();
  for (const auto& r : records) {
    const DriftKey key{r.model_id, r.model_version, r.group};
    std::string error;
    std::optional<ResultBaseline> results;
    std::optional<InputBaseline> inputs;
    if (r.results > 0) results = decode_result_baseline(r.result_baseline, r.results, error);
    if (error.empty() && r.periods > 0) inputs = decode_input_baseline(r.input_baseline, r.periods, error);
    if (!error.empty()) {
      // Learnt again rather than judged against a row that cannot be what a watch learnt.
      if (std::find(refused_baselines_.begin(), refused_baselines_.end(), key) == refused_baselines_.end()) {
        log_.warn("drift", "stored baseline refused; learning it again", {{"watch", to_string(key)}, {"error", error}});
        refused_baselines_.push_back(key);
      }
      continue;
    }
    std::lock_guard lock(mutex_);
    auto it = watches_.find(key);
    // At start every stored watch comes back, a half-learnt baseline going on learning; later, a
    // watch still learning takes only a baseline another gateway has formed.
    if (it == watches_.end() && !at_start) continue;
    Watch& watch = it != watches_.end() ? it->second : watch_for(key, now);
    if (results && (at_start ? watch.detector.baseline().results < results->results
                             : watch.detector.learning() && results->results >= options_.baseline)) {
      watch.detector.restore(*results);
      watch.saved_results = results->results;
    }
    if (inputs && (at_start ? watch.input.baseline().periods < inputs->periods
                            : watch.input.learning() && inputs->periods >= options_.input_baseline)) {
      watch.input.restore(*inputs);
      watch.saved_periods = inputs->periods;
    }
  }
}

void DriftMonitor::refresh_groups() {
  groups_.clear();
  for (auto& node : query_->nodes()) {
    // A row made before the node's Hello was stored (its retained state, its groups) says version
    // 0: the model is not known yet, and an input period filed under it would feed a watch no
    // result ever meets. What its results or Hello said stands.
    if (node.model_version != 0) models_[node.node_id] = {node.model_id, node.model_version};
    groups_[node.node_id] = std::move(node.groups);
  }
  groups_read_ms_ = wall_ms();
}

void DriftMonitor::feed(const gateway::EventRow& row) {
  // The model a node's latest result ran is the one its next input statistics belong to: the node
  // table can lag it (or miss a Hello), and an input period filed under another version would
  // never meet its results' watch.
  models_[row.node_id] = {row.model_id, row.model_version};
  auto it = groups_.find(row.node_id);
  if (it == groups_.end() && wall_ms() - groups_read_ms_ >= kNewNodeRefreshMs) {
    refresh_groups();
    it = groups_.find(row.node_id);
  }
  if (it == groups_.end() || it->second.empty()) {
    feed_one({row.model_id, row.model_version, ""}, row);
    return;
  }
  for (const auto& group : it->second) feed_one({row.model_id, row.model_version, group}, row);
}

void DriftMonitor::add_input(const std::string& node_id, const InputPeriod& period) {
  std::lock_guard lock(inputs_mutex_);
  if (pending_inputs_.size() < kMaxPendingInputs) pending_inputs_.emplace_back(node_id, period);
}

void DriftMonitor::feed_inputs() {
  std::vector<std::pair<std::string, InputPeriod>> inputs;
  {
    std::lock_guard lock(inputs_mutex_);
    inputs.swap(pending_inputs_);
  }
  for (const auto& [node, period] : inputs) {
    auto model = models_.find(node);
    if (model == models_.end() && wall_ms() - groups_read_ms_ >= kNewNodeRefreshMs) {
      refresh_groups();
      model = models_.find(node);
    }
    // A node the store does not know yet: its period cannot be attributed to a model.
    if (model == models_.end()) continue;
    std::vector<std::string> groups = groups_[node];
    if (groups.empty()) groups.push_back("");
    const int64_t now = wall_ms();
    for (const auto& group : groups) {
      const DriftKey key{model->second.first, model->second.second, group};
      std::lock_guard lock(mutex_);
      Watch& watch = watch_for(key, now);
      for (const InputChange& change : watch.input.add(period)) record_input(key, watch, change, now);
    }
  }
}

DriftMonitor::Watch& DriftMonitor::watch_for(const DriftKey& key, int64_t at_ms) {
  auto it = watches_.find(key);
  if (it == watches_.end()) {
    // Bounded: a node inventing model versions makes watches that are soon the least recently
    // fed, and those are the ones dropped; a version the fleet runs is fed every second.
    if (watches_.size() >= kMaxWatches) {
      auto oldest = watches_.begin();
      for (auto w = watches_.begin(); w != watches_.end(); ++w)
        if (w->second.fed_at < oldest->second.fed_at) oldest = w;
      watches_.erase(oldest);
    }
    it = watches_.emplace(key, Watch(options_)).first;
    it->second.first_ms = at_ms;
  }
  Watch& watch = it->second;
  watch.last_ms = at_ms;
  watch.fed_at = ++feeds_;
  return watch;
}

void DriftMonitor::feed_one(const DriftKey& key, const gateway::EventRow& row) {
  std::lock_guard lock(mutex_);
  Watch& watch = watch_for(key, row.received_ms);
  for (const DriftChange& change : watch.detector.add(row.label, row.score)) record(key, watch, change, wall_ms());
}

void DriftMonitor::record(const DriftKey& key, const Watch& watch, const DriftChange& change, int64_t at_ms) {
  char figures[160];
  std::snprintf(figures, sizeof figures, "%.4f bits (bound %.4f = %.4f + noise floor %.4f)", change.divergence.jsd,
                change.divergence.bound, change.divergence.bound - change.divergence.floor, change.divergence.floor);
  if (change.raised) {
    DriftAlert alert;
    alert.id = next_alert_id_++;
    alert.key = key;
    alert.kind = change.kind;
    alert.raised_ms = at_ms;
    alert.at_raise = change.divergence;
    alert.results_at_raise = watch.detector.reading().results;
    alerts_.push_front(alert);
    if (alerts_.size() > kAlertHistory) alerts_.pop_back();
    log_.warn("drift", "alarm raised",
              {{"watch", to_string(key)}, {"kind", to_string(change.kind)}, {"divergence", figures}});
    return;
  }
  for (auto& alert : alerts_) {
    if (alert.key == key && alert.kind == change.kind && alert.cleared_ms == 0) {
      alert.cleared_ms = at_ms;
      alert.cleared_by = "distribution returned";
    }
  }
  log_.info("drift", "alarm cleared",
            {{"watch", to_string(key)}, {"kind", to_string(change.kind)}, {"divergence", figures}});
}

void DriftMonitor::record_input(const DriftKey& key, const Watch& watch, const InputChange& change, int64_t at_ms) {
  const DriftKind kind = change.statistic == InputStatistic::kMean ? DriftKind::kInputMean : DriftKind::kInputStddev;
  char figures[200];
  std::snprintf(figures, sizeof figures, "%.3f -> %.3f int8 steps (shift %.3f, bound %.3f = %.3f + noise floor %.3f)",
                change.shift.baseline, change.shift.window, change.shift.shift, change.shift.bound,
                change.shift.bound - change.shift.floor, change.shift.floor);
  if (change.raised) {
    DriftAlert alert;
    alert.id = next_alert_id_++;
    alert.key = key;
    alert.kind = kind;
    alert.raised_ms = at_ms;
    alert.input_at_raise = change.shift;
    alert.periods_at_raise = watch.input.reading().periods;
    alert.results_at_raise = watch.detector.reading().results;
    alerts_.push_front(alert);
    if (alerts_.size() > kAlertHistory) alerts_.pop_back();
    log_.warn("drift", "alarm raised", {{"watch", to_string(key)}, {"kind", to_string(kind)}, {"shift", figures}});
    return;
  }
  for (auto& alert : alerts_) {
    if (alert.key == key && alert.kind == kind && alert.cleared_ms == 0) {
      alert.cleared_ms = at_ms;
      alert.cleared_by = "distribution returned";
    }
  }
  log_.info("drift", "alarm cleared", {{"watch", to_string(key)}, {"kind", to_string(kind)}, {"shift", figures}});
}

bool DriftMonitor::rebaseline(const DriftKey& key, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto it = watches_.find(key);
  if (it == watches_.end()) return false;
  it->second.detector.rebaseline();
  it->second.input.rebaseline();
  it->second.saved_results = it->second.saved_periods = 0;
  forgotten_.push_back(key);
  for (auto& alert : alerts_) {
    if (alert.key == key && alert.cleared_ms == 0) {
      alert.cleared_ms = now_ms;
      alert.cleared_by = "rebaselined by operator";
    }
  }
  log_.info("drift", "baseline to be learnt again", {{"watch", to_string(key)}});
  return true;
}

std::vector<DriftWatch> DriftMonitor::watches() const {
  std::lock_guard lock(mutex_);
  std::vector<DriftWatch> out;
  for (const auto& [key, watch] : watches_) {
    out.push_back({key, watch.detector.reading(), watch.input.reading(), watch.first_ms, watch.last_ms});
    // An input alarm is drift of the watch as much as one on its results.
    if (watch.input.alarmed(InputStatistic::kMean) || watch.input.alarmed(InputStatistic::kStddev))
      out.back().reading.state = DriftReading::State::kDrifting;
  }
  return out;
}

std::vector<DriftAlert> DriftMonitor::alerts() const {
  std::lock_guard lock(mutex_);
  return {alerts_.begin(), alerts_.end()};
}

}  // namespace tinyedge::drift
