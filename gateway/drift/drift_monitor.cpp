#include "gateway/drift/drift_monitor.h"

#include <chrono>
#include <cstdio>

namespace tinyedge::drift {
namespace {

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

constexpr size_t kReadBatch = 5000;
constexpr int kMaxBatchesPerPoll = 40;       // then let the next poll continue: stop() stays prompt
constexpr int64_t kGroupsRefreshMs = 5000;   // groups change by operator action: seconds are fine
constexpr int64_t kNewNodeRefreshMs = 1000;  // a node not seen before: read its groups soon, not in 5 s

}  // namespace

std::string to_string(const DriftKey& key) {
  return "model " + std::to_string(key.model_id) + " v" + std::to_string(key.version) +
         (key.group.empty() ? " ungrouped" : " group " + key.group);
}

DriftMonitor::DriftMonitor(DriftOptions options, QueryOpener open_query, gateway::Logger& log)
    : options_(options), open_query_(std::move(open_query)), log_(log) {}

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
}

void DriftMonitor::refresh_groups() {
  groups_.clear();
  for (auto& node : query_->nodes()) {
    // A row made before the node's Hello was stored says version 0; what its results said stands.
    if (node.model_version != 0 || !models_.contains(node.node_id))
      models_[node.node_id] = {node.model_id, node.model_version};
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
