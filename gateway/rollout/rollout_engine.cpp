#include "gateway/rollout/rollout_engine.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "gateway/rollout/ota_reason.h"
#include "tinyedge.pb.h"

namespace tinyedge::rollout {
namespace {

constexpr uint32_t kMaxBusyRetries = 3;
// A reconnecting node may announce itself twice (state topic and Hello): one offer is enough.
constexpr TimeMs kReofferGapMs = 1000;
// After a takeover, how long an in-flight node may stay silent before it is offered again: longer
// than a node's chunk request timeout (3 s), so a download that carries on is heard from first.
constexpr TimeMs kTakeoverSilenceMs = 5000;
// How long after a takeover silent in-flight nodes are re-offered (every kTakeoverSilenceMs): a
// node may still have spoken just after the takeover (a status forwarded through the mailbox)
// and then lost its last one, the activation, to the leader that died.
constexpr TimeMs kTakeoverWatchMs = 30000;

}  // namespace

RolloutEngine RolloutEngine::create(RolloutRecord record, std::vector<TargetNode> targets, TimeMs now) {
  validate(record.strategy);
  std::sort(targets.begin(), targets.end(), [](const TargetNode& a, const TargetNode& b) {
    if (a.online != b.online) return a.online;
    return a.node_id < b.node_id;
  });
  targets.erase(std::unique(targets.begin(), targets.end(),
                            [](const TargetNode& a, const TargetNode& b) { return a.node_id == b.node_id; }),
                targets.end());
  RolloutEngine engine;
  record.state = RolloutState::kRunning;
  record.phase = 0;
  record.phase_ends = plan_phase_ends(record.strategy, static_cast<uint32_t>(targets.size()));
  record.created_at = now;
  record.updated_at = now;
  record.deadline_at = now + record.strategy.deadline_ms;
  record.soak_until = 0;
  engine.record_ = std::move(record);
  uint32_t phase = 0;
  for (uint32_t i = 0; i < targets.size(); ++i) {
    while (phase + 1 < engine.record_.phase_ends.size() && i >= engine.record_.phase_ends[phase]) ++phase;
    NodeRecord node;
    node.node_id = targets[i].node_id;
    node.order = i;
    node.phase = phase;
    node.online = targets[i].online;
    node.from_version = targets[i].model_id == engine.record_.package.model_id ? targets[i].model_version : 0;
    if (targets[i].model_id == engine.record_.package.model_id &&
        targets[i].model_version == engine.record_.package.version) {
      node.state = NodeState::kActivated;
      node.reason = "already running this version";
      node.finished_at = now;
    }
    engine.index_[node.node_id] = engine.nodes_.size();
    engine.dirty_nodes_.insert(node.node_id);
    engine.nodes_.push_back(std::move(node));
  }
  engine.dirty_record_ = true;
  return engine;
}

RolloutEngine::RolloutEngine(RolloutRecord record, std::vector<NodeRecord> nodes, TimeMs now)
    : record_(std::move(record)), nodes_(std::move(nodes)) {
  std::sort(nodes_.begin(), nodes_.end(), [](const NodeRecord& a, const NodeRecord& b) { return a.order < b.order; });
  for (size_t i = 0; i < nodes_.size(); ++i) {
    index_[nodes_[i].node_id] = i;
    // The gateway was away: whatever time passed is not the node's fault.
    if (is_in_flight(nodes_[i].state)) nodes_[i].last_activity = now;
  }
}

void RolloutEngine::take_over(const std::map<std::string, bool>& online, TimeMs now) {
  for (auto& node : nodes_) {
    auto it = online.find(node.node_id);
    node.online = it != online.end() && it->second;
    if (is_in_flight(node.state)) {
      node.last_offer_sent = now;
      node.last_activity = now;
    }
  }
  taken_over_at_ = now;
  takeover_round_at_ = now;
}

NodeRecord* RolloutEngine::find(std::string_view node_id) {
  auto it = index_.find(std::string(node_id));
  return it == index_.end() ? nullptr : &nodes_[it->second];
}

const NodeRecord* RolloutEngine::node(std::string_view node_id) const {
  auto it = index_.find(std::string(node_id));
  return it == index_.end() ? nullptr : &nodes_[it->second];
}

void RolloutEngine::touch(NodeRecord& node) { dirty_nodes_.insert(node.node_id); }

void RolloutEngine::set_offered(std::string_view node_id, const std::string& base_sha256) {
  NodeRecord* node = find(node_id);
  if (node == nullptr || node->offered_base == base_sha256) return;
  node->offered_base = base_sha256;
  touch(*node);
}

void RolloutEngine::set_state(NodeRecord& node, NodeState state, std::string reason, TimeMs now) {
  node.state = state;
  node.reason = std::move(reason);
  node.last_activity = now;
  if (is_terminal(state)) node.finished_at = now;
  touch(node);
}

void RolloutEngine::set_rollout_state(RolloutState state, std::string reason, TimeMs now) {
  record_.state = state;
  record_.reason = std::move(reason);
  record_.updated_at = now;
  dirty_record_ = true;
}

uint32_t RolloutEngine::expected_version(const NodeRecord& node) const {
  return node.rollback ? record_.previous.version : record_.package.version;
}

uint32_t RolloutEngine::failures() const {
  uint32_t n = 0;
  for (const auto& node : nodes_) n += (!node.rollback && is_failure(node.state)) ? 1 : 0;
  return n;
}

uint32_t RolloutEngine::attempted() const {
  uint32_t n = 0;
  for (const auto& node : nodes_) {
    // A cancelled node neither failed nor succeeded: it is left out of the failure ratio.
    n += node.state != NodeState::kCancelled &&
                 (node.rollback || (node.state != NodeState::kPending && node.reason != "already running this version"))
             ? 1
             : 0;
  }
  return n;
}

uint32_t RolloutEngine::in_flight() const {
  uint32_t n = 0;
  for (const auto& node : nodes_) n += is_in_flight(node.state) ? 1 : 0;
  return n;
}

bool RolloutEngine::finished() const {
  return record_.state == RolloutState::kCompleted || record_.state == RolloutState::kAborted ||
         record_.state == RolloutState::kRolledBack;
}

std::string RolloutEngine::phase_name(uint32_t phase) const {
  bool has_canary = record_.strategy.canary.value > 0 && record_.phase_ends.size() > 1;
  if (has_canary && phase == 0) return "canary";
  return "wave " + std::to_string(has_canary ? phase : phase + 1);
}

std::vector<PhaseSummary> RolloutEngine::phases() const {
  std::vector<PhaseSummary> out(record_.phase_ends.size());
  for (uint32_t p = 0; p < out.size(); ++p) {
    out[p].name = phase_name(p);
    out[p].size = record_.phase_ends[p] - (p ? record_.phase_ends[p - 1] : 0);
  }
  for (const auto& node : nodes_) {
    if (node.phase >= out.size()) continue;
    PhaseSummary& s = out[node.phase];
    ++s.counts[node.state];
    s.bytes_written += node.state == NodeState::kActivated ? node.total_bytes : node.bytes_written;
    s.total_bytes += node.total_bytes;
  }
  return out;
}

void RolloutEngine::on_online(std::string_view node_id, bool online, TimeMs now) {
  NodeRecord* node = find(node_id);
  if (!node) return;
  if (online && !node->online && is_in_flight(node->state)) {
    node->last_offer_sent = -1;  // offer again: the node resumes from its persisted progress
    node->last_activity = now;
  }
  node->online = online;
}

void RolloutEngine::on_offer_undeliverable(std::string_view node_id, TimeMs now) {
  NodeRecord* node = find(node_id);
  if (!node) return;
  node->online = false;
  node->last_offer_sent = -1;
  if (node->state == NodeState::kOffered) {
    node->attempts = node->attempts > 0 ? node->attempts - 1 : 0;
    set_state(*node, NodeState::kPending, "not reachable yet", now);
  }
}

void RolloutEngine::on_hello(std::string_view node_id, uint32_t model_id, uint32_t model_version, TimeMs now) {
  NodeRecord* node = find(node_id);
  if (!node) return;
  node->online = true;
  if (model_id != record_.package.model_id) return;
  uint32_t expect = expected_version(*node);
  if (model_version == expect && node->state != NodeState::kActivated && expect != 0) {
    set_state(*node, NodeState::kActivated, "running v" + std::to_string(expect) + " (hello)", now);
    if (record_.state == RolloutState::kRollingBack && !node->rollback) {
      node->rollback = true;
      set_state(*node, NodeState::kPending, "to roll back", now);
    }
  } else if (is_in_flight(node->state) && model_version != expect && now - node->last_offer_sent > kReofferGapMs) {
    node->last_offer_sent = -1;  // rebooted in the middle: offer again so it resumes
    node->last_activity = now;
  }
}

void RolloutEngine::on_status(std::string_view node_id, const tinyedge_v1_OtaStatus& status, TimeMs now) {
  NodeRecord* node = find(node_id);
  if (!node || status.model_id != record_.package.model_id) return;
  uint32_t expect = expected_version(*node);
  if (status.version != expect) return;  // about another update (an older offer, a manual one)
  // Only a timed-out node may come back to life; other terminal states are final.
  if (is_terminal(node->state) && node->state != NodeState::kTimedOut) return;
  node->last_activity = now;
  std::string reason(ota_reason_name(status.reason));
  switch (status.state) {
    case tinyedge_v1_OtaState_OTA_IDLE:
      return;
    case tinyedge_v1_OtaState_OTA_OFFERED:
      set_state(*node, NodeState::kOffered, "", now);
      break;
    case tinyedge_v1_OtaState_OTA_DOWNLOADING:
      node->bytes_written = status.bytes_written;
      node->total_bytes = status.total_bytes;
      set_state(*node, NodeState::kDownloading, "", now);
      break;
    case tinyedge_v1_OtaState_OTA_VERIFYING:
      node->bytes_written = status.bytes_written ? status.bytes_written : node->total_bytes;
      set_state(*node, NodeState::kVerifying, "", now);
      break;
    case tinyedge_v1_OtaState_OTA_ACTIVATED:
      if (status.total_bytes) node->total_bytes = status.total_bytes;
      node->bytes_written = node->total_bytes;
      set_state(*node, NodeState::kActivated, "", now);
      break;
    case tinyedge_v1_OtaState_OTA_REFUSED:
      if (status.reason == tinyedge_v1_OtaReason_OTA_ROLLBACK && status.active_version == expect) {
        set_state(*node, NodeState::kActivated, "already running this version", now);
      } else if (status.reason == tinyedge_v1_OtaReason_OTA_BUSY && node->attempts < kMaxBusyRetries) {
        set_state(*node, NodeState::kPending, "busy; will offer again", now);
      } else if (status.reason == tinyedge_v1_OtaReason_OTA_BASE_MISMATCH && !node->full_only && !node->rollback) {
        // The node does not run the delta's base (the gateway's view of its model was wrong): it
        // fetched nothing, and the full package fits any base. Once: a refusal of that is final.
        node->full_only = true;
        node->attempts = node->attempts > 0 ? node->attempts - 1 : 0;
        set_state(*node, NodeState::kPending, "refused the delta (base mismatch): offering the full package", now);
      } else {
        set_state(*node, NodeState::kRefused, reason, now);
      }
      break;
    case tinyedge_v1_OtaState_OTA_FAILED:
      set_state(*node, NodeState::kFailed, reason, now);
      break;
    default:
      return;
  }
  // A node that was mid-transfer when the operator rolled back took the new version anyway.
  if (record_.state == RolloutState::kRollingBack && !node->rollback && node->state == NodeState::kActivated) {
    node->rollback = true;
    node->bytes_written = 0;
    node->attempts = 0;
    set_state(*node, NodeState::kPending, "to roll back", now);
  }
}

void RolloutEngine::on_inference(std::string_view node_id, uint32_t model_id, uint32_t model_version, uint32_t label,
                                 uint32_t score, uint32_t latency_us, uint32_t sample_id) {
  if (record_.soak_until == 0 || model_id != record_.package.model_id || !targets(node_id)) return;
  (model_version == record_.package.version ? updated_ : baseline_).add_result(label, score, latency_us, sample_id);
}

void RolloutEngine::on_reboot(std::string_view node_id) { count_errors(node_id, 1); }

void RolloutEngine::on_failed_inferences(std::string_view node_id, uint32_t count) { count_errors(node_id, count); }

void RolloutEngine::count_errors(std::string_view node_id, uint32_t count) {
  const NodeRecord* node = find(node_id);
  if (record_.soak_until == 0 || !node || node->rollback || is_in_flight(node->state)) return;
  (node->state == NodeState::kActivated ? updated_ : baseline_).add_errors(count);
}

void RolloutEngine::check_failure_threshold(TimeMs now) {
  uint32_t failed = failures() - std::min(failures(), record_.acked_failures);
  uint32_t tried = attempted() - std::min(attempted(), record_.acked_attempted);
  const CountOrPercent& limit = record_.strategy.max_failures;
  bool over = limit.percent ? (tried > 0 && failed * 100.0 / tried > limit.value) : failed > limit.value;
  if (!over) return;
  std::map<std::string, uint32_t> reasons;
  const NodeRecord* latest = nullptr;
  for (const auto& node : nodes_) {
    if (node.rollback || !is_failure(node.state)) continue;
    ++reasons[std::string(to_string(node.state)) + (node.reason.empty() ? "" : " (" + node.reason + ")")];
    if (!latest || node.finished_at >= latest->finished_at) latest = &node;
  }
  std::string examples;
  for (const auto& [why, n] : reasons) examples += (examples.empty() ? "" : ", ") + why + " x" + std::to_string(n);
  if (latest)
    examples += "; latest " + latest->node_id + ": " + std::string(to_string(latest->state)) + " " + latest->reason;
  char text[160];
  if (limit.percent) {
    std::snprintf(text, sizeof text, "failure threshold: %u of %u nodes offered failed (%.1f%% > %s) in %s", failed,
                  tried, failed * 100.0 / tried, limit.to_string().c_str(), phase_name(record_.phase).c_str());
  } else {
    std::snprintf(text, sizeof text, "failure threshold: %u nodes failed (> %s) in %s", failed,
                  limit.to_string().c_str(), phase_name(record_.phase).c_str());
  }
  set_rollout_state(RolloutState::kPaused, std::string(text) + ": " + examples, now);
}

bool RolloutEngine::phase_done(uint32_t phase) const {
  for (const auto& node : nodes_) {
    if (node.phase > phase) continue;
    if (is_in_flight(node.state) || (node.state == NodeState::kPending && node.online)) return false;
  }
  return true;
}

void RolloutEngine::start_soak(TimeMs now) {
  record_.soak_until = now + record_.strategy.soak_ms;
  record_.gate_message.clear();
  updated_ = CohortStats{};
  baseline_ = CohortStats{};
  dirty_record_ = true;
}

void RolloutEngine::advance(TimeMs now) {
  record_.phase += 1;
  record_.soak_until = 0;
  record_.updated_at = now;
  dirty_record_ = true;
}

void RolloutEngine::offer_pending(TimeMs now, std::vector<Action>& actions) {
  bool rolling_back = record_.state == RolloutState::kRollingBack;
  uint32_t busy = in_flight();
  // Nodes already in flight whose offer was lost (gateway restart, node reconnect) get it again.
  for (auto& node : nodes_) {
    if (is_in_flight(node.state) && node.online && node.last_offer_sent < 0) {
      node.last_offer_sent = now;
      actions.push_back({Action::Kind::kOffer, node.node_id, node.rollback, node.full_only, true});
    }
  }
  for (auto& node : nodes_) {
    if (busy >= record_.strategy.max_concurrent) break;
    if (node.state != NodeState::kPending || !node.online) continue;
    if (rolling_back ? !node.rollback : node.phase > record_.phase) continue;
    node.attempts += 1;
    node.offered_at = now;
    node.last_offer_sent = now;
    node.bytes_written = 0;
    set_state(node, NodeState::kOffered, "", now);
    actions.push_back({Action::Kind::kOffer, node.node_id, node.rollback, node.full_only});
    ++busy;
  }
}

void RolloutEngine::finish_rollback_if_done(TimeMs now) {
  uint32_t back = 0, failed = 0, cancelled = 0;
  for (const auto& node : nodes_) {
    if (is_in_flight(node.state)) return;
    if (!node.rollback) continue;
    if (node.state == NodeState::kPending) return;
    (node.state == NodeState::kActivated ? back : node.state == NodeState::kCancelled ? cancelled : failed) += 1;
  }
  set_rollout_state(RolloutState::kRolledBack,
                    std::to_string(back) + " nodes back on v" + std::to_string(record_.previous.version) +
                        (failed ? ", " + std::to_string(failed) + " could not be rolled back" : "") +
                        (cancelled ? ", " + std::to_string(cancelled) + " cancelled" : ""),
                    now);
}

std::vector<Action> RolloutEngine::tick(TimeMs now) {
  // A node whose last status went to the leader that died (an activation, say) would wait out its
  // timeout: one that has said nothing since the takeover is offered again, once, and answers
  // where it stands (already running it, or resuming its download).
  if (taken_over_at_ >= 0 && now - takeover_round_at_ >= kTakeoverSilenceMs) {
    for (auto& node : nodes_) {
      if (is_in_flight(node.state) && now - node.last_activity >= kTakeoverSilenceMs) node.last_offer_sent = -1;
    }
    takeover_round_at_ = now;
    if (now - taken_over_at_ >= kTakeoverWatchMs) taken_over_at_ = -1;
  }
  std::vector<Action> actions;
  bool rolling_back = record_.state == RolloutState::kRollingBack;
  if (record_.state != RolloutState::kRunning && !rolling_back) return actions;

  if (now >= record_.deadline_at) {
    uint32_t late = 0;
    for (auto& node : nodes_) {
      if (is_terminal(node.state) || node.rollback != rolling_back) continue;
      if (is_in_flight(node.state)) actions.push_back({Action::Kind::kCancel, node.node_id, node.rollback});
      set_state(node, NodeState::kTimedOut, "deadline passed", now);
      ++late;
    }
    if (rolling_back) {
      finish_rollback_if_done(now);
    } else {
      set_rollout_state(RolloutState::kCompleted, "deadline passed with " + std::to_string(late) + " nodes not updated",
                        now);
    }
    return actions;
  }

  for (auto& node : nodes_) {
    if (is_in_flight(node.state) && node.online && now - node.last_activity > record_.strategy.node_timeout_ms) {
      actions.push_back({Action::Kind::kCancel, node.node_id, node.rollback});
      set_state(node, NodeState::kTimedOut,
                "no progress for " + format_duration_ms(record_.strategy.node_timeout_ms) + " while " +
                    std::string(to_string(node.state)),
                now);
    }
  }

  if (rolling_back) {
    offer_pending(now, actions);
    finish_rollback_if_done(now);
    return actions;
  }

  check_failure_threshold(now);
  if (record_.state != RolloutState::kRunning) return actions;

  const GateBounds& gate = record_.strategy.gate;
  for (int guard = 0; guard < 64 && record_.state == RolloutState::kRunning; ++guard) {
    if (record_.soak_until != 0) {
      bool judge = gate.enabled && record_.gate_override_phase != static_cast<int32_t>(record_.phase);
      if (judge) {
        GateVerdict verdict = evaluate_gate(gate, updated_, baseline_);
        if (verdict.message != record_.gate_message) {
          record_.gate_message = verdict.message;
          dirty_record_ = true;
        }
        if (verdict.outcome == GateVerdict::Outcome::kTripped) {
          set_rollout_state(RolloutState::kPaused, verdict.message + " after " + phase_name(record_.phase), now);
          return actions;
        }
        if (now >= record_.soak_until && verdict.outcome == GateVerdict::Outcome::kInsufficientData) {
          set_rollout_state(RolloutState::kPaused,
                            verdict.message + " at the end of the soak after " + phase_name(record_.phase) +
                                " (resume to go on without it)",
                            now);
          return actions;
        }
      }
      if (now < record_.soak_until) return actions;
      advance(now);
    }
    offer_pending(now, actions);
    if (!phase_done(record_.phase)) return actions;
    if (record_.phase + 1 < record_.phase_ends.size()) {
      if (record_.strategy.soak_ms > 0) {
        start_soak(now);
        return actions;
      }
      advance(now);
      continue;
    }
    uint32_t waiting = 0, activated = 0, failed = 0, cancelled = 0;
    for (const auto& node : nodes_) {
      waiting += node.state == NodeState::kPending ? 1 : 0;
      activated += node.state == NodeState::kActivated ? 1 : 0;
      failed += is_failure(node.state) ? 1 : 0;
      cancelled += node.state == NodeState::kCancelled ? 1 : 0;
    }
    if (waiting == 0) {
      set_rollout_state(RolloutState::kCompleted,
                        std::to_string(activated) + " of " + std::to_string(nodes_.size()) + " nodes activated" +
                            (failed ? ", " + std::to_string(failed) + " failed" : "") +
                            (cancelled ? ", " + std::to_string(cancelled) + " cancelled" : ""),
                        now);
    } else if (record_.reason.rfind("waiting", 0) != 0) {
      record_.reason = "waiting for " + std::to_string(waiting) + " offline nodes until the deadline";
      dirty_record_ = true;
    }
    return actions;
  }
  return actions;
}

TimeMs RolloutEngine::next_wakeup(TimeMs now) const {
  TimeMs next = record_.deadline_at;
  if (record_.soak_until) next = std::min(next, record_.soak_until);
  for (const auto& node : nodes_) {
    if (is_in_flight(node.state) && node.online) {
      next = std::min(next, node.last_activity + record_.strategy.node_timeout_ms + 1);
    }
  }
  return std::max(next, now);
}

void RolloutEngine::pause(std::string reason, TimeMs now) {
  if (record_.state != RolloutState::kRunning) {
    throw std::logic_error("rollout " + std::to_string(record_.id) + " is " + std::string(to_string(record_.state)) +
                           ", not running");
  }
  set_rollout_state(RolloutState::kPaused, reason.empty() ? "paused by operator" : std::move(reason), now);
}

void RolloutEngine::resume(TimeMs now) {
  if (record_.state != RolloutState::kPaused) {
    throw std::logic_error("rollout " + std::to_string(record_.id) + " is " + std::string(to_string(record_.state)) +
                           ", not paused");
  }
  // Resuming accepts what made it pause: the failures so far, or the gate's verdict on this phase.
  if (record_.reason.rfind("failure threshold", 0) == 0) {
    record_.acked_failures = failures();
    record_.acked_attempted = attempted();
  }
  if (record_.reason.rfind("quality gate", 0) == 0) record_.gate_override_phase = static_cast<int32_t>(record_.phase);
  set_rollout_state(RolloutState::kRunning, "resumed by operator", now);
}

std::vector<Action> RolloutEngine::abort(bool rollback, TimeMs now) {
  std::vector<Action> actions;
  RolloutState s = record_.state;
  bool can_abort = s == RolloutState::kRunning || s == RolloutState::kPaused;
  bool can_roll_back = can_abort || s == RolloutState::kCompleted;
  if (!(rollback ? can_roll_back : can_abort)) {
    throw std::logic_error("rollout " + std::to_string(record_.id) + " is " + std::string(to_string(s)) +
                           (rollback ? ": nothing to roll back" : ": nothing to abort"));
  }
  if (rollback && record_.previous.registry_id == 0) {
    throw std::logic_error("no previous package of model " + std::to_string(record_.package.model_id) + " below v" +
                           std::to_string(record_.package.version) +
                           " is in the registry: upload it first, then abort --rollback");
  }
  for (auto& node : nodes_) {
    if (is_in_flight(node.state)) actions.push_back({Action::Kind::kCancel, node.node_id, false});
  }
  if (!rollback) {
    set_rollout_state(RolloutState::kAborted, "aborted by operator", now);
    return actions;
  }
  for (auto& node : nodes_) {
    if (node.state != NodeState::kActivated || node.reason == "already running this version") continue;
    node.rollback = true;
    node.bytes_written = 0;
    node.attempts = 0;
    set_state(node, NodeState::kPending, "to roll back", now);
  }
  record_.deadline_at = now + record_.strategy.deadline_ms;
  record_.soak_until = 0;
  set_rollout_state(RolloutState::kRollingBack,
                    "aborted by operator: rolling back to v" + std::to_string(record_.previous.version), now);
  offer_pending(now, actions);
  finish_rollback_if_done(now);
  return actions;
}

std::vector<Action> RolloutEngine::cancel_node(std::string_view node_id, TimeMs now) {
  NodeRecord* node = find(node_id);
  if (!node) {
    throw std::out_of_range("rollout " + std::to_string(record_.id) + " does not target node " + std::string(node_id));
  }
  if (finished()) {
    throw std::logic_error("rollout " + std::to_string(record_.id) + " is " + std::string(to_string(record_.state)) +
                           ": nothing to cancel");
  }
  const std::string what = node->rollback ? "its rollback to v" + std::to_string(record_.previous.version)
                                          : "v" + std::to_string(record_.package.version);
  if (node->state == NodeState::kActivated) {
    throw std::logic_error("node " + node->node_id + " has already activated " + what +
                           (node->rollback ? "" : ": roll the rollout back (abort --rollback) to undo it"));
  }
  if (is_terminal(node->state)) {
    throw std::logic_error("node " + node->node_id + " has already ended " + std::string(to_string(node->state)) +
                           (node->reason.empty() ? "" : " (" + node->reason + ")") + ": nothing to cancel");
  }
  std::vector<Action> actions;
  std::string reason = "cancelled by operator";
  if (is_in_flight(node->state)) {
    // The node stops its transfer and keeps the slot it was writing to unused: its running model stays.
    actions.push_back({Action::Kind::kCancel, node->node_id, node->rollback});
    reason += " while " + std::string(to_string(node->state));
    if (node->total_bytes) {
      reason += " (" + std::to_string(node->bytes_written) + " of " + std::to_string(node->total_bytes) + " bytes)";
    }
  }
  set_state(*node, NodeState::kCancelled, std::move(reason), now);
  record_.updated_at = now;
  dirty_record_ = true;
  return actions;
}

std::vector<std::string> RolloutEngine::take_dirty_nodes() {
  std::vector<std::string> out(dirty_nodes_.begin(), dirty_nodes_.end());
  dirty_nodes_.clear();
  return out;
}

bool RolloutEngine::take_dirty_record() {
  bool dirty = dirty_record_;
  dirty_record_ = false;
  return dirty;
}

}  // namespace tinyedge::rollout
