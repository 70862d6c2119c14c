#include "gateway/rollout/rollout_service.h"

#include <pb_decode.h>
#include <pb_encode.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>

#include "ota/package.h"
#include "ota/sha256.h"

namespace tinyedge::rollout {
namespace {

using Kind = RolloutApiError::Kind;

// How long the node table may take to show what a node said (the store's batches are written in
// well under a second; a busy PostgreSQL may take a few).
constexpr TimeMs kTableCatchUpMs = 10000;

size_t encoded_size(const pb_msgdesc_t* fields, const void* message) {
  size_t size = 0;
  return pb_get_encoded_size(&size, fields, message) ? size : 0;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// The fleet's nodes that `target` names; throws RolloutApiError naming what does not match.
std::vector<TargetNode> resolve_target(const std::string& target, const std::vector<FleetNode>& fleet) {
  auto as_target = [](const FleetNode& n) { return TargetNode{n.node_id, n.online, n.model_id, n.model_version}; };
  std::vector<TargetNode> out;
  if (target == "all") {
    for (const auto& n : fleet) out.push_back(as_target(n));
  } else if (target.rfind("group:", 0) == 0) {
    std::string group = target.substr(6);
    if (group.empty()) throw RolloutApiError(Kind::kBadRequest, "target group: empty group name");
    for (const auto& n : fleet) {
      if (std::find(n.groups.begin(), n.groups.end(), group) != n.groups.end()) out.push_back(as_target(n));
    }
    if (out.empty()) throw RolloutApiError(Kind::kBadRequest, "target " + target + ": no node is in group '" + group + "'");
  } else if (target.rfind("nodes:", 0) == 0) {
    std::map<std::string, const FleetNode*> by_id;
    for (const auto& n : fleet) by_id[n.node_id] = &n;
    std::string unknown;
    for (const auto& id : split(target.substr(6), ',')) {
      auto it = by_id.find(id);
      if (it == by_id.end()) {
        unknown += (unknown.empty() ? "" : ", ") + id;
      } else {
        out.push_back(as_target(*it->second));
      }
    }
    if (!unknown.empty()) throw RolloutApiError(Kind::kBadRequest, "target: unknown nodes: " + unknown);
    if (out.empty()) throw RolloutApiError(Kind::kBadRequest, "target nodes: empty list");
  } else {
    throw RolloutApiError(Kind::kBadRequest,
                          "target '" + target + "': expected all, group:<name> or nodes:<id>,<id>...");
  }
  if (out.empty()) throw RolloutApiError(Kind::kBadRequest, "target " + target + " matches no node");
  return out;
}

Strategy strategy_from_request(const RolloutRequest& r) {
  try {
    Strategy s;
    s.canary = parse_count_or_percent(r.canary, "canary");
    s.waves = parse_waves(r.waves);
    s.max_failures = parse_count_or_percent(r.max_failures, "max-failures");
    s.soak_ms = parse_duration_ms(r.soak, "soak");
    s.max_concurrent = r.max_concurrent;
    s.node_timeout_ms = parse_duration_ms(r.node_timeout, "node-timeout");
    s.deadline_ms = parse_duration_ms(r.deadline, "deadline");
    s.gate = r.gate;
    validate(s);
    return s;
  } catch (const std::invalid_argument& e) {
    throw RolloutApiError(Kind::kBadRequest, e.what());
  }
}

}  // namespace

RolloutService::RolloutService(RolloutStore& store, ModelRegistry& registry, Fleet& fleet, RolloutServiceConfig config,
                               Clock clock, std::optional<ota::SigningKey> grant_key, Log log)
    : store_(store),
      registry_(registry),
      fleet_(fleet),
      config_(config),
      clock_(std::move(clock)),
      grant_key_(std::move(grant_key)),
      log_(log ? std::move(log) : [](const std::string&) {}),
      mailbox_(store.mailbox()),
      leading_(mailbox_ == nullptr),
      ota_(config.ota) {
  // The gateway must never hold a key that signs packages: nodes trust the rollback key for
  // RollbackGrants only, so this host can at most step a node back to a package the fleet key
  // signed, never install a model of its own making.
  if (grant_key_ && registry_.trusts(grant_key_->key_id()))
    throw std::invalid_argument("the rollback key " + ota::key_id_hex(grant_key_->key_id()) +
                                " is a fleet key that packages are verified against: give the gateway a separate "
                                "key (`tinyedge keys generate --out rollback`) and build its public half into the "
                                "nodes as their rollback key");
}

void RolloutService::restore() {
  std::lock_guard lock(mutex_);
  load_unfinished(false, clock_());
  next_fleet_poll_ = 0;  // learn who is online right away
}

void RolloutService::load_unfinished(bool take_over, TimeMs now) {
  std::map<int64_t, std::unique_ptr<RolloutEngine>> loaded;
  for (RolloutRecord& record : store_.rollouts()) {
    if (record.state == RolloutState::kCompleted || record.state == RolloutState::kAborted ||
        record.state == RolloutState::kRolledBack) {
      continue;
    }
    int64_t id = record.id;
    auto engine = std::make_unique<RolloutEngine>(record, store_.rollout_nodes(id), now);
    if (take_over) engine->take_over(online_, now);
    ensure_served(engine->record().package);
    if (engine->record().state == RolloutState::kRollingBack) ensure_served(engine->record().previous);
    // Nodes mid-download go on fetching what they were offered: a delta's chunks, not the full package's.
    for (const NodeRecord& node : engine->nodes()) serve_offered(engine->record(), node);
    log_("rollout " + std::to_string(id) + (take_over ? " taken over: " : " restored: ") +
         std::string(to_string(engine->record().state)) + ", " + engine->phase_name(engine->record().phase));
    loaded[id] = std::move(engine);
  }
  engines_ = std::move(loaded);
}

void RolloutService::set_leading(bool leading) {
  {
    std::lock_guard lock(mutex_);
    if (leading == leading_) return;
    queued_actions_.clear();
    grants_.clear();
    if (leading) {
      // Throws (the store out of reach): then this gateway does not lead yet and tries again.
      TimeMs now = clock_();
      for (const FleetNode& n : fleet_.nodes()) online_[n.node_id] = n.online;
      load_unfinished(true, now);
    } else {
      engines_.clear();
    }
    leading_ = leading;
    next_fleet_poll_ = 0;
    log_(leading ? "leading the rollouts" : "no longer leading the rollouts");
  }
  wake();
}

bool RolloutService::leading() const {
  std::lock_guard lock(mutex_);
  return leading_;
}

void RolloutService::adopt_new_rollouts(TimeMs now) {
  for (RolloutRecord& record : store_.rollouts()) {
    if (record.state == RolloutState::kCompleted || record.state == RolloutState::kAborted ||
        record.state == RolloutState::kRolledBack || engines_.count(record.id)) {
      continue;
    }
    int64_t id = record.id;
    auto nodes = store_.rollout_nodes(id);
    if (nodes.empty()) continue;  // its nodes are written in the next transaction
    auto engine = std::make_unique<RolloutEngine>(std::move(record), std::move(nodes), now);
    for (const auto& [node, online] : online_) engine->on_online(node, online, now);
    ensure_served(engine->record().package);
    log_("rollout " + std::to_string(id) + " picked up: started on another gateway");
    engines_[id] = std::move(engine);
  }
}

void RolloutService::follow_store() {
  bool unfinished = false;
  offers_learned_.clear();
  for (const RolloutRecord& record : store_.rollouts()) {
    if (record.state == RolloutState::kCompleted || record.state == RolloutState::kAborted ||
        record.state == RolloutState::kRolledBack) {
      continue;
    }
    unfinished = true;
    // Any gateway answers chunk requests, so each serves what the rollouts offer.
    ensure_served(record.package);
    if (record.state == RolloutState::kRollingBack) ensure_served(record.previous);
    for (const NodeRecord& node : store_.rollout_nodes(record.id)) {
      if (!is_in_flight(node.state)) continue;
      serve_offered(record, node);
      const PackageRef& package = node.rollback ? record.previous : record.package;
      offers_learned_.emplace(node.node_id, package.model_id, package.version);
    }
  }
  rollouts_unfinished_ = unfinished;
}

void RolloutService::forward_to_leader(const std::string& node_id, const tinyedge_v1_Uplink& uplink) {
  const bool ota_status = uplink.which_payload == tinyedge_v1_Uplink_ota_status_tag;
  if (ota_status && uplink.payload.ota_status.state >= tinyedge_v1_OtaState_OTA_ACTIVATED) ota_.forget(node_id);
  if (ota_status) {
    // The next offer may name another package: read it again at the node's next chunk request.
    std::erase_if(offers_learned_, [&](const auto& learned) { return std::get<0>(learned) == node_id; });
  }
  // Hello and Telemetry matter to the leader only while a rollout runs.
  if (!ota_status && !rollouts_unfinished_) return;
  ForwardedUplink forwarded{node_id, std::vector<uint8_t>(encoded_size(tinyedge_v1_Uplink_fields, &uplink)), clock_()};
  pb_ostream_t out = pb_ostream_from_buffer(forwarded.uplink.data(), forwarded.uplink.size());
  if (!pb_encode(&out, tinyedge_v1_Uplink_fields, &uplink)) return;
  try {
    mailbox_->forward_uplink(forwarded);
  } catch (const StoreError& e) {
    log_("cannot pass an uplink from " + node_id + " on to the rollout leader: " + e.what());
  }
}

void RolloutService::deliver_mail() {
  RolloutMail mail;
  try {
    mail = mailbox_->take_mail(2000);
  } catch (const StoreError& e) {
    log_(std::string("cannot read the rollout mailbox: ") + e.what());
    return;
  }
  if (!mail.commands.empty()) {
    // A rollout started on another gateway may be paused before this one's next look.
    std::lock_guard lock(mutex_);
    try {
      adopt_new_rollouts(clock_());
    } catch (const std::exception& e) {
      log_(std::string("cannot read the rollouts: ") + e.what());
    }
  }
  using CommandKind = RolloutCommand::Kind;
  for (const RolloutCommand& command : mail.commands) {
    try {
      switch (command.kind) {
        case CommandKind::kPause:
          pause(command.rollout_id);
          break;
        case CommandKind::kResume:
          resume(command.rollout_id);
          break;
        case CommandKind::kAbort:
        case CommandKind::kAbortRollback:
          abort(command.rollout_id, command.kind == CommandKind::kAbortRollback);
          break;
        case CommandKind::kCancelNode:
          cancel_node(command.rollout_id, command.node_id);
          break;
      }
    } catch (const std::exception& e) {
      log_("rollout " + std::to_string(command.rollout_id) +
           ": a command given to another gateway failed: " + e.what());
    }
  }
  auto uplink = std::make_unique<tinyedge_v1_Uplink>();
  for (const ForwardedUplink& forwarded : mail.uplinks) {
    *uplink = tinyedge_v1_Uplink_init_zero;
    pb_istream_t in = pb_istream_from_buffer(forwarded.uplink.data(), forwarded.uplink.size());
    if (!pb_decode(&in, tinyedge_v1_Uplink_fields, uplink.get())) {
      log_("a forwarded uplink from " + forwarded.node_id + " does not decode: dropped");
      continue;
    }
    on_uplink(forwarded.node_id, *uplink);
  }
}

void RolloutService::wake() {
  if (wake_) wake_();
}

void RolloutService::ensure_served(const PackageRef& package) {
  if (package.registry_id == 0 || ota_.has_package(package.model_id, package.version)) return;
  ota_.add_package(registry_.package(package.registry_id));
}

std::optional<DeltaRow> RolloutService::delta_for(const std::string& node_id, const PackageRef& package) {
  if (package.registry_id == 0) return std::nullopt;
  auto running = running_.find(node_id);
  if (running == running_.end() || running->second.model_id != package.model_id) return std::nullopt;
  // The gateway knows a node's model by the id and version it reports; the registry knows that
  // version's installed bytes. A node running other bytes under that version refuses the delta
  // (OTA_BASE_MISMATCH) before fetching anything, and the engine offers it the full package.
  const std::optional<ModelRow> base = store_.model_by_version(package.model_id, running->second.version);
  if (!base) return std::nullopt;
  std::optional<DeltaRow> delta = registry_.delta_for(package.registry_id, base->payload_sha256);
  if (!delta) return std::nullopt;
  if (!ota_.has_package(package.model_id, package.version, delta->id))
    ota_.add_package(registry_.delta_package(delta->id), delta->id);
  return delta;
}

void RolloutService::serve_offered(const RolloutRecord& record, const NodeRecord& node) {
  if (!is_in_flight(node.state)) return;
  const PackageRef& package = node.rollback ? record.previous : record.package;
  try {
    const int64_t delta_id = node.rollback ? 0 : served_delta(package, node.offered_base);
    if (delta_id == 0 && !node.offered_base.empty() && !node.rollback) {
      log_("rollout " + std::to_string(record.id) + ": " + node.node_id + " was offered a delta from base " +
           node.offered_base + " that the registry does not hold: its chunk requests get the full package");
    }
    ota_.assign(node.node_id, package.model_id, package.version, delta_id);
  } catch (const std::exception& e) {
    log_("rollout " + std::to_string(record.id) + ": cannot serve " + node.node_id + " its package: " + e.what());
  }
}

int64_t RolloutService::served_delta(const PackageRef& package, const std::string& base_sha256) {
  if (base_sha256.empty() || package.registry_id == 0) return 0;
  const auto key = std::make_pair(package.registry_id, base_sha256);
  auto known = delta_ids_.find(key);
  if (known == delta_ids_.end()) {
    const std::optional<DeltaRow> delta = registry_.delta_for(package.registry_id, base_sha256);
    known = delta_ids_.emplace(key, delta ? delta->id : 0).first;
  }
  const int64_t delta_id = known->second;
  if (delta_id != 0 && !ota_.has_package(package.model_id, package.version, delta_id))
    ota_.add_package(registry_.delta_package(delta_id), delta_id);
  return delta_id;
}

void RolloutService::learn_offer(const std::string& node_id, uint32_t model_id, uint32_t version) {
  if (!offers_learned_.emplace(node_id, model_id, version).second) return;
  try {
    for (const RolloutRecord& record : store_.rollouts()) {
      if (record.state == RolloutState::kCompleted || record.state == RolloutState::kAborted ||
          record.state == RolloutState::kRolledBack) {
        continue;
      }
      const bool forward = record.package.model_id == model_id && record.package.version == version;
      const bool back = record.previous.model_id == model_id && record.previous.version == version;
      if (!forward && !back) continue;
      ensure_served(forward ? record.package : record.previous);
      for (const NodeRecord& node : store_.rollout_nodes(record.id)) {
        if (node.node_id == node_id) serve_offered(record, node);
      }
    }
  } catch (const std::exception& e) {
    offers_learned_.erase({node_id, model_id, version});  // its next request tries again
    log_("cannot read which package " + node_id + " was offered: " + e.what());
  }
}

const ota::SignedRollbackGrant& RolloutService::grant_for(const RolloutEngine& engine, TimeMs now) {
  auto it = grants_.find(engine.record().id);
  if (it != grants_.end()) return it->second;
  const RolloutRecord& r = engine.record();
  const ota::Manifest previous = ota::manifest_of(registry_.package(r.previous.registry_id));
  ota::Digest installed{};  // what the node will hold: the signed digest, also for an encoded payload
  std::copy_n(previous.payload_sha256.bytes, installed.size(), installed.begin());
  // Allows exactly new -> previous for this payload: a replayed old package without it is refused.
  auto grant = ota::create_rollback_grant(r.package.model_id, r.package.version, r.previous.version, installed,
                                          static_cast<uint64_t>(now / 1000), *grant_key_);
  return grants_.emplace(r.id, std::move(grant)).first->second;
}

bool RolloutService::send(const std::string& node_id, const tinyedge_v1_Downlink& downlink) {
  // Only what the bearer took is on the wire.
  if (!fleet_.send(node_id, downlink)) return false;
  WireStats& stats = wire_[node_id];
  stats.downlink_bytes += encoded_size(tinyedge_v1_Downlink_fields, &downlink);
  if (downlink.which_payload == tinyedge_v1_Downlink_offer_tag) ++stats.offers;
  if (downlink.which_payload == tinyedge_v1_Downlink_chunk_tag) {
    ++stats.chunks;
    stats.chunk_payload_bytes += downlink.payload.chunk.data.size;
  }
  return true;
}

void RolloutService::execute(RolloutEngine& engine, const std::vector<Action>& actions, TimeMs now) {
  const RolloutRecord& r = engine.record();
  // Which package each offer names (a delta or the full one) is stored before any offer goes out:
  // the node's chunk requests name only the version, and may reach another gateway or this one
  // restarted, which serve what the store says. Not stored: the full package (the default anywhere).
  std::map<std::string, int64_t> deltas;
  for (const Action& action : actions) {
    if (action.kind != Action::Kind::kOffer) continue;
    std::optional<DeltaRow> delta;
    try {
      const NodeRecord* node = engine.node(action.node_id);
      if (action.again && node != nullptr) {
        // A lost offer (a restart, a reconnect) is made again as it was: the node resumes the
        // download it has half written, whatever the node table says about its model now.
        const int64_t id = action.rollback ? 0 : served_delta(r.package, node->offered_base);
        if (id != 0) delta = DeltaRow{id, r.package.registry_id, node->offered_base};
      } else if (!action.rollback && !action.full_only) {
        delta = delta_for(action.node_id, r.package);
      }
    } catch (const std::exception& e) {
      log_("rollout " + std::to_string(r.id) + ": no delta for " + action.node_id + ": " + e.what());
    }
    deltas[action.node_id] = delta ? delta->id : 0;
    engine.set_offered(action.node_id, delta ? delta->base_sha256 : "");
  }
  if (!deltas.empty() && !persist(engine)) {
    for (auto& [node_id, delta] : deltas) {
      if (delta == 0) continue;
      delta = 0;
      engine.set_offered(node_id, "");
    }
  }
  for (const Action& action : actions) {
    if (action.kind == Action::Kind::kCancel) {
      ota_.forget(action.node_id);
      tinyedge_v1_Downlink down = tinyedge_v1_Downlink_init_zero;
      down.which_payload = tinyedge_v1_Downlink_command_tag;
      down.payload.command.kind = tinyedge_v1_Command_Kind_CANCEL_UPDATE;
      send(action.node_id, down);
      continue;
    }
    try {
      const PackageRef& package = action.rollback ? r.previous : r.package;
      ensure_served(package);
      std::optional<ota::SignedRollbackGrant> grant;
      if (action.rollback) grant = grant_for(engine, now);
      // Cut to the link the node is on now: a re-offer after a reconnect takes the new link's shape.
      const LinkShape shape = fleet_.link_shape(action.node_id);
      const int64_t delta = deltas[action.node_id];
      if (!send(action.node_id,
                ota_.offer(package.model_id, package.version, grant, shape.chunk_bytes, shape.window, delta))) {
        engine.on_offer_undeliverable(action.node_id, now);
        continue;
      }
      ota_.assign(action.node_id, package.model_id, package.version, delta);
    } catch (const std::exception& e) {
      log_("rollout " + std::to_string(r.id) + ": cannot offer to " + action.node_id + ": " + e.what());
    }
  }
}

bool RolloutService::persist(RolloutEngine& engine) {
  std::vector<std::string> dirty = engine.take_dirty_nodes();
  bool record_dirty = engine.take_dirty_record();
  if (dirty.empty() && !record_dirty) return true;
  std::vector<const NodeRecord*> nodes;
  nodes.reserve(dirty.size());
  for (const auto& id : dirty) {
    if (const NodeRecord* n = engine.node(id)) nodes.push_back(n);
  }
  try {
    store_.save(engine.record(), nodes);
    return true;
  } catch (const StoreError& e) {
    log_(std::string("rollout store write failed: ") + e.what());
    return false;
  }
}

void RolloutService::on_uplink(const std::string& node_id, const tinyedge_v1_Uplink& uplink) {
  {
    std::lock_guard lock(mutex_);
    TimeMs now = clock_();
    if (!leading_ && uplink.which_payload != tinyedge_v1_Uplink_chunk_request_tag) {
      forward_to_leader(node_id, uplink);
      return;
    }
    note_boot(node_id, uplink.boot_id);
    switch (uplink.which_payload) {
      case tinyedge_v1_Uplink_telemetry_tag:
        note_failed_inferences(node_id, uplink.boot_id, uplink.payload.telemetry.failed_inferences);
        return;
      case tinyedge_v1_Uplink_chunk_request_tag: {
        WireStats& stats = wire_[node_id];
        stats.uplink_bytes += encoded_size(tinyedge_v1_Uplink_fields, &uplink);
        ++stats.chunk_requests;
        if (!leading_)
          learn_offer(node_id, uplink.payload.chunk_request.model_id, uplink.payload.chunk_request.version);
        auto result = ota_.on_chunk_request(node_id, uplink.payload.chunk_request);
        if (result != OtaServer::Request::kQueued && result != OtaServer::Request::kDuplicate &&
            result != OtaServer::Request::kQueueFull) {
          log_("chunk request from " + node_id + " refused: " + std::string(to_string(result)));
        }
        break;
      }
      case tinyedge_v1_Uplink_ota_status_tag:
        wire_[node_id].uplink_bytes += encoded_size(tinyedge_v1_Uplink_fields, &uplink);
        for (auto& [id, engine] : engines_) {
          engine->on_status(node_id, uplink.payload.ota_status, now);
          const NodeRecord* node = engine->node(node_id);
          if (uplink.payload.ota_status.reason == tinyedge_v1_OtaReason_OTA_BASE_MISMATCH && node != nullptr &&
              node->full_only && node->state == NodeState::kPending) {
            log_("rollout " + std::to_string(id) + ": " + node_id +
                 " refused the delta (its active model is not the delta's base): offering it the full package");
          }
        }
        if (uplink.payload.ota_status.state == tinyedge_v1_OtaState_OTA_ACTIVATED)
          running_[node_id] = {uplink.payload.ota_status.model_id, uplink.payload.ota_status.version, now};
        if (uplink.payload.ota_status.state >= tinyedge_v1_OtaState_OTA_ACTIVATED) ota_.forget(node_id);
        break;
      case tinyedge_v1_Uplink_hello_tag: {
        const tinyedge_v1_Hello& hello = uplink.payload.hello;
        online_[node_id] = true;
        running_[node_id] = {hello.model_id, hello.model_version, now};
        for (auto& [id, engine] : engines_) {
          engine->on_online(node_id, true, now);
          engine->on_hello(node_id, hello.model_id, hello.model_version, now);
        }
        break;
      }
      default:
        return;
    }
  }
  wake();
}

void RolloutService::note_boot(const std::string& node_id, uint32_t boot_id) {
  auto [it, fresh] = boot_ids_.try_emplace(node_id, boot_id);
  if (fresh || it->second == boot_id) return;
  it->second = boot_id;
  for (auto& [id, engine] : engines_) engine->on_reboot(node_id);
}

void RolloutService::note_failed_inferences(const std::string& node_id, uint32_t boot_id, uint32_t failed) {
  auto [it, fresh] = failed_inferences_.try_emplace(node_id, FailureCount{boot_id, failed});
  if (fresh) return;  // failures from before the gateway first heard of the node are no soak's
  const uint32_t before = it->second.boot_id == boot_id ? it->second.failed : 0;  // a new boot counts from 0
  it->second = {boot_id, failed};
  if (failed <= before) return;
  for (auto& [id, engine] : engines_) engine->on_failed_inferences(node_id, failed - before);
}

void RolloutService::poll_fleet(TimeMs now) {
  next_fleet_poll_ = now + config_.fleet_poll_ms;
  std::vector<FleetNode> nodes;
  try {
    nodes = fleet_.nodes();
  } catch (const std::exception& e) {
    log_(std::string("cannot read the node table: ") + e.what());
    return;
  }
  // Every node, every poll: a node whose offer could not be routed is retried once it shows up.
  for (const FleetNode& n : nodes) {
    online_[n.node_id] = n.online;
    learn_from_table(n, now);
    for (auto& [id, engine] : engines_) engine->on_online(n.node_id, n.online, now);
  }
}

void RolloutService::learn_from_table(const FleetNode& node, TimeMs now) {
  RunningModel& running = running_[node.node_id];
  const bool said_lately = running.said_at >= 0 && now - running.said_at < kTableCatchUpMs;
  if (running.said_at >= 0 && (node.model_version == 0 || said_lately)) return;
  running = {node.model_id, node.model_version, -1};
}

void RolloutService::poll_results(TimeMs now) {
  next_results_poll_ = now + config_.results_poll_ms;
  bool soaking = false;
  for (auto& [id, engine] : engines_) soaking |= engine->record().soak_until != 0;
  if (!soaking) {
    results_cursor_ = -1;
    return;
  }
  try {
    if (results_cursor_ < 0) results_cursor_ = fleet_.results_cursor();
    for (int batch = 0; batch < 8; ++batch) {
      auto rows = fleet_.results_since(results_cursor_, 20000);
      for (const InferenceRow& row : rows) {
        for (auto& [id, engine] : engines_) {
          engine->on_inference(row.node_id, row.model_id, row.model_version, row.label, row.score, row.latency_us,
                               row.sample_id);
        }
      }
      if (rows.size() < 20000) break;
    }
  } catch (const std::exception& e) {
    log_(std::string("cannot read inference results: ") + e.what());
  }
}

TimeMs RolloutService::run_once() {
  if (mailbox_ && leading()) deliver_mail();
  std::lock_guard lock(mutex_);
  TimeMs now = clock_();
  if (now >= next_fleet_poll_) {
    poll_fleet(now);
    try {
      if (!leading_) {
        follow_store();
      } else if (mailbox_) {
        adopt_new_rollouts(now);
      }
    } catch (const std::exception& e) {
      log_(std::string("cannot read the rollouts: ") + e.what());
    }
  }
  if (leading_ && now >= next_results_poll_) poll_results(now);
  TimeMs next = now + config_.max_idle_ms;
  for (auto it = engines_.begin(); it != engines_.end();) {
    RolloutEngine& engine = *it->second;
    auto queued = queued_actions_.find(it->first);
    if (queued != queued_actions_.end()) {
      execute(engine, queued->second, now);
      queued_actions_.erase(queued);
    }
    RolloutState before = engine.record().state;
    execute(engine, engine.tick(now), now);
    persist(engine);
    if (engine.record().state != before) {
      log_("rollout " + std::to_string(it->first) + " " + std::string(to_string(engine.record().state)) + ": " +
           engine.record().reason);
    }
    if (engine.finished()) {
      it = engines_.erase(it);
      continue;
    }
    next = std::min(next, engine.next_wakeup(now));
    if (engine.record().soak_until) next = std::min(next, next_results_poll_);
    ++it;
  }
  // Chunks wait while the bearer's queue is deep; a chunk it refuses stays queued (never dropped).
  using Sent = OtaServer::SendResult;
  ota_.pump(now, [this](const std::string& node_id, const tinyedge_v1_Downlink& chunk) {
    // A link that knows its own depth (a BLE connection: a window's worth of writes) says so.
    size_t limit = config_.ota.max_downlink_backlog;
    if (const size_t link_limit = fleet_.link_shape(node_id).max_backlog; link_limit != 0)
      limit = std::min(limit, link_limit);
    if (fleet_.downlink_backlog(node_id) >= limit) return Sent::kBackedUp;
    return send(node_id, chunk) ? Sent::kSent : Sent::kUndeliverable;
  });
  TimeMs ready = ota_.next_ready(now);
  if (ready >= 0) next = std::min(next, ready);
  next = std::min(next, next_fleet_poll_);
  return std::max(next, now);
}

WireStats RolloutService::wire_stats(const std::string& node_id) const {
  std::lock_guard lock(mutex_);
  auto it = wire_.find(node_id);
  return it == wire_.end() ? WireStats{} : it->second;
}

uint64_t RolloutService::ota_backoffs() const {
  std::lock_guard lock(mutex_);
  return ota_.backoffs();
}

uint64_t RolloutService::ota_undeliverable() const {
  std::lock_guard lock(mutex_);
  return ota_.undeliverable();
}

std::map<std::string, WireStats> RolloutService::all_wire_stats() const {
  std::lock_guard lock(mutex_);
  return wire_;
}

RolloutView RolloutService::view_of(const RolloutEngine& engine, bool with_nodes) const {
  RolloutView v;
  v.record = engine.record();
  v.phase_name = engine.phase_name(engine.record().phase);
  v.phases = engine.phases();
  for (const auto& n : engine.nodes()) ++v.counts[n.state];
  v.failures = engine.failures();
  v.target_size = static_cast<uint32_t>(engine.nodes().size());
  if (with_nodes) v.nodes = engine.nodes();
  return v;
}

RolloutEngine* RolloutService::active(int64_t id) {
  auto it = engines_.find(id);
  return it == engines_.end() ? nullptr : it->second.get();
}

ModelRow RolloutService::upload_model(std::span<const uint8_t> package_bytes) {
  std::lock_guard lock(mutex_);
  try {
    return registry_.add(package_bytes, clock_());
  } catch (const RegistryError& e) {
    std::string what = e.what();
    throw RolloutApiError(what.find("already in the registry") != std::string::npos ? Kind::kConflict
                                                                                    : Kind::kBadRequest,
                          what);
  }
}

std::vector<ModelRow> RolloutService::models() {
  std::lock_guard lock(mutex_);
  return registry_.list();
}

std::vector<uint8_t> RolloutService::model_payload(int64_t registry_id) {
  std::lock_guard lock(mutex_);
  if (!store_.model(registry_id))
    throw RolloutApiError(Kind::kNotFound, "no model " + std::to_string(registry_id) + " in the registry");
  try {
    return registry_.package(registry_id).payload;
  } catch (const RegistryError& e) {
    throw RolloutApiError(Kind::kConflict, e.what());
  }
}

RolloutView RolloutService::start(const RolloutRequest& request) {
  RolloutView view;
  {
    std::lock_guard lock(mutex_);
    TimeMs now = clock_();
    std::optional<ModelRow> model =
        request.model_ref ? store_.model(request.model_ref) : store_.model_by_version(request.model_id, request.version);
    if (!model) {
      throw RolloutApiError(Kind::kNotFound,
                            request.model_ref ? "model " + std::to_string(request.model_ref) + " is not in the registry"
                                              : "model " + std::to_string(request.model_id) + " v" +
                                                    std::to_string(request.version) +
                                                    " is not in the registry: upload the package first");
    }
    if (!leading_) {
      for (const RolloutRecord& other : store_.rollouts()) {
        if (other.package.model_id == model->model_id && other.state != RolloutState::kCompleted &&
            other.state != RolloutState::kAborted && other.state != RolloutState::kRolledBack) {
          throw RolloutApiError(Kind::kConflict,
                                "rollout " + std::to_string(other.id) + " of model " + std::to_string(model->model_id) +
                                    " is still " + std::string(to_string(other.state)) + ": finish or abort it first");
        }
      }
    }
    for (const auto& [id, engine] : engines_) {
      if (engine->record().package.model_id == model->model_id) {
        throw RolloutApiError(Kind::kConflict, "rollout " + std::to_string(id) + " of model " +
                                                   std::to_string(model->model_id) + " is still " +
                                                   std::string(to_string(engine->record().state)) +
                                                   ": finish or abort it first");
      }
    }
    RolloutRecord record;
    record.package = {model->id, model->model_id, model->version};
    if (auto previous = store_.previous_model(model->model_id, model->version)) {
      record.previous = {previous->id, previous->model_id, previous->version};
    }
    record.target = request.target;
    record.strategy = strategy_from_request(request);
    const std::vector<FleetNode> fleet = fleet_.nodes();
    for (const FleetNode& n : fleet) learn_from_table(n, now);
    std::vector<TargetNode> targets = resolve_target(request.target, fleet);
    for (auto& t : targets) {
      auto it = online_.find(t.node_id);
      if (it != online_.end()) t.online = it->second;
    }
    ensure_served(record.package);
    auto engine = std::make_unique<RolloutEngine>(RolloutEngine::create(std::move(record), std::move(targets), now));
    engine->set_id(store_.insert_rollout(engine->record()));
    persist(*engine);
    int64_t id = engine->record().id;
    log_("rollout " + std::to_string(id) + " started: model " + std::to_string(model->model_id) + " v" +
         std::to_string(model->version) + " to " + request.target + " (" + std::to_string(engine->nodes().size()) +
         " nodes)");
    view = view_of(*engine, false);
    // Stored: the leader picks it up from there.
    if (leading_) engines_[id] = std::move(engine);
  }
  wake();
  return view;
}

std::vector<RolloutView> RolloutService::list() {
  std::lock_guard lock(mutex_);
  std::vector<RolloutView> out;
  TimeMs now = clock_();
  for (RolloutRecord& record : store_.rollouts()) {
    if (RolloutEngine* engine = active(record.id)) {
      out.push_back(view_of(*engine, false));
    } else {
      int64_t id = record.id;
      out.push_back(view_of(RolloutEngine(std::move(record), store_.rollout_nodes(id), now), false));
    }
  }
  return out;
}

RolloutView RolloutService::get(int64_t id, bool with_nodes) {
  std::lock_guard lock(mutex_);
  if (RolloutEngine* engine = active(id)) return view_of(*engine, with_nodes);
  auto record = store_.rollout(id);
  if (!record) throw RolloutApiError(Kind::kNotFound, "rollout " + std::to_string(id) + " does not exist");
  return view_of(RolloutEngine(std::move(*record), store_.rollout_nodes(id), clock_()), with_nodes);
}

RolloutView RolloutService::relay(int64_t id, RolloutCommand::Kind kind, const std::string& node_id) {
  auto record = store_.rollout(id);
  if (!record) throw RolloutApiError(Kind::kNotFound, "rollout " + std::to_string(id) + " does not exist");
  // The command is tried on a copy of the stored state, so the operator hears at once whether it
  // is allowed; the leader applies it to the live rollout.
  const TimeMs now = clock_();
  RolloutEngine copy(std::move(*record), store_.rollout_nodes(id), now);
  const bool aborting = kind == RolloutCommand::Kind::kAbort || kind == RolloutCommand::Kind::kAbortRollback;
  if (copy.finished() && !aborting)
    throw RolloutApiError(Kind::kConflict, "rollout " + std::to_string(id) + " has finished");
  if (kind == RolloutCommand::Kind::kAbortRollback && !grant_key_) {
    throw RolloutApiError(Kind::kConflict,
                          "this gateway has no rollback signing key to sign a rollback grant (start it with "
                          "--rollback-key); abort without --rollback, or configure it");
  }
  try {
    if (kind == RolloutCommand::Kind::kPause) copy.pause("paused by operator", now);
    if (kind == RolloutCommand::Kind::kResume) copy.resume(now);
    if (aborting) copy.abort(kind == RolloutCommand::Kind::kAbortRollback, now);
    if (kind == RolloutCommand::Kind::kCancelNode) (void)copy.cancel_node(node_id, now);
  } catch (const std::out_of_range& e) {
    throw RolloutApiError(Kind::kNotFound, e.what());
  } catch (const std::logic_error& e) {
    throw RolloutApiError(Kind::kConflict, e.what());
  }
  mailbox_->post_command({id, kind, node_id});
  log_("rollout " + std::to_string(id) + ": command passed on to the leader");
  return view_of(copy, false);
}

RolloutView RolloutService::pause(int64_t id) {
  std::lock_guard lock(mutex_);
  if (!leading_) return relay(id, RolloutCommand::Kind::kPause);
  RolloutEngine* engine = active(id);
  if (!engine) {
    if (!store_.rollout(id)) throw RolloutApiError(Kind::kNotFound, "rollout " + std::to_string(id) + " does not exist");
    throw RolloutApiError(Kind::kConflict, "rollout " + std::to_string(id) + " has finished");
  }
  try {
    engine->pause("paused by operator", clock_());
  } catch (const std::logic_error& e) {
    throw RolloutApiError(Kind::kConflict, e.what());
  }
  persist(*engine);
  return view_of(*engine, false);
}

RolloutView RolloutService::resume(int64_t id) {
  RolloutView view;
  {
    std::lock_guard lock(mutex_);
    if (!leading_) return relay(id, RolloutCommand::Kind::kResume);
    RolloutEngine* engine = active(id);
    if (!engine) {
      if (!store_.rollout(id)) throw RolloutApiError(Kind::kNotFound, "rollout " + std::to_string(id) + " does not exist");
      throw RolloutApiError(Kind::kConflict, "rollout " + std::to_string(id) + " has finished");
    }
    try {
      engine->resume(clock_());
    } catch (const std::logic_error& e) {
      throw RolloutApiError(Kind::kConflict, e.what());
    }
    persist(*engine);
    view = view_of(*engine, false);
  }
  wake();
  return view;
}

RolloutView RolloutService::abort(int64_t id, bool rollback) {
  RolloutView view;
  {
    std::lock_guard lock(mutex_);
    if (!leading_) return relay(id, rollback ? RolloutCommand::Kind::kAbortRollback : RolloutCommand::Kind::kAbort);
    TimeMs now = clock_();
    std::unique_ptr<RolloutEngine> loaded;
    RolloutEngine* engine = active(id);
    if (!engine) {
      auto record = store_.rollout(id);
      if (!record) throw RolloutApiError(Kind::kNotFound, "rollout " + std::to_string(id) + " does not exist");
      // A completed rollout can still be rolled back.
      loaded = std::make_unique<RolloutEngine>(std::move(*record), store_.rollout_nodes(id), now);
      for (const auto& [node, online] : online_) loaded->on_online(node, online, now);
      engine = loaded.get();
    }
    if (rollback && !grant_key_) {
      throw RolloutApiError(Kind::kConflict,
                            "this gateway has no rollback signing key to sign a rollback grant (start it with "
                            "--rollback-key); abort without --rollback, or configure it");
    }
    std::vector<Action> actions;
    try {
      actions = engine->abort(rollback, now);
    } catch (const std::logic_error& e) {
      throw RolloutApiError(Kind::kConflict, e.what());
    }
    if (rollback) ensure_served(engine->record().previous);
    persist(*engine);
    view = view_of(*engine, false);
    if (loaded && !engine->finished()) engines_[id] = std::move(loaded);
    auto& queue = queued_actions_[id];
    queue.insert(queue.end(), actions.begin(), actions.end());
    if (!active(id)) {
      // Finished at once (nothing to roll back): send the cancels now, nothing else will.
      execute(*engine, queue, now);
      queued_actions_.erase(id);
    }
  }
  wake();
  return view;
}

RolloutView RolloutService::cancel_node(int64_t id, const std::string& node_id) {
  RolloutView view;
  {
    std::lock_guard lock(mutex_);
    if (!leading_) return relay(id, RolloutCommand::Kind::kCancelNode, node_id);
    RolloutEngine* engine = active(id);
    if (!engine) {
      if (!store_.rollout(id))
        throw RolloutApiError(Kind::kNotFound, "rollout " + std::to_string(id) + " does not exist");
      throw RolloutApiError(Kind::kConflict, "rollout " + std::to_string(id) + " has finished: nothing to cancel");
    }
    std::vector<Action> actions;
    try {
      actions = engine->cancel_node(node_id, clock_());
    } catch (const std::out_of_range& e) {
      throw RolloutApiError(Kind::kNotFound, e.what());
    } catch (const std::logic_error& e) {
      throw RolloutApiError(Kind::kConflict, e.what());
    }
    persist(*engine);
    log_("rollout " + std::to_string(id) + ": node " + node_id + " cancelled by operator");
    view = view_of(*engine, false);
    auto& queue = queued_actions_[id];
    queue.insert(queue.end(), actions.begin(), actions.end());
  }
  wake();
  return view;
}

}  // namespace tinyedge::rollout
