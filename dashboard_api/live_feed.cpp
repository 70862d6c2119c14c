#include "dashboard_api/live_feed.h"

#include <algorithm>
#include <chrono>

#include "dashboard_api/json_views.h"

namespace tinyedge::dashboard {
namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What the fleet view shows of a node, minus last-seen times (they change with every result and
// travel with the events instead).
std::string digest(const gateway::NodeRow& n) {
  std::string d = (n.online ? "1|" : "0|") + std::to_string(n.model_id) + '|' + std::to_string(n.model_version) + '|' +
                  std::to_string(n.boot_id) + '|' + n.model_name + '|' + n.bearer;
  for (const auto& g : n.groups) d += '|' + g;
  return d;
}

}  // namespace

LiveFeed::LiveFeed(QueryPool& queries, ModelCatalog& catalog, std::shared_ptr<RolloutPort> rollouts)
    : queries_(queries), catalog_(catalog), rollouts_(std::move(rollouts)) {}

std::string LiveFeed::message(const std::string& name, const nlohmann::json& data) {
  return "event: " + name + "\ndata: " + json_text(data) + "\n\n";
}

std::string LiveFeed::hello() {
  {
    auto q = queries_.borrow();
    last_event_id_ = q->last_event_id();
    poll_nodes(*q, false);
  }
  poll_rollouts(false);
  // retry: how long a browser's EventSource waits before reconnecting (the page's own reader
  // reconnects with its own back-off).
  return "retry: 2000\n" +
         message("hello",
                 {{"last_event_id", last_event_id_}, {"at_ms", wall_ms()}, {"rollouts", rollouts_ != nullptr}});
}

std::string LiveFeed::poll() {
  std::string out;
  {
    auto q = queries_.borrow();
    out += poll_events(*q);
    out += poll_nodes(*q, true);
  }
  out += poll_rollouts(true);
  return out;
}

// `last` and the rows come from two statements: events stored between them come back in `rows`
// beyond `last`, so the cursor moves to the last row sent when that is further (else the next poll
// sends those rows again). Every row up to `last` is in `rows`: at most kMaxEventsPerPoll ids lie
// in the window read, and PostgreSQL's tail horizon only rises (store/postgres/ingest_claims.h).
std::string LiveFeed::poll_events(gateway::Query& q) {
  const int64_t last = q.last_event_id();
  if (last <= last_event_id_) return {};
  const int64_t skipped = std::max<int64_t>(0, last - last_event_id_ - static_cast<int64_t>(kMaxEventsPerPoll));
  const int64_t from = last_event_id_ + skipped;
  const auto rows = q.events_after(from, kMaxEventsPerPoll);
  last_event_id_ = rows.empty() ? last : std::max(last, rows.back().id);
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : rows) events.push_back(to_json(e, catalog_.labels(e.model_id, e.model_version)));
  if (events.empty()) return {};
  return message("events", {{"events", std::move(events)}, {"last_event_id", last_event_id_}, {"skipped", skipped}});
}

std::string LiveFeed::poll_nodes(gateway::Query& q, bool announce) {
  const auto rows = q.nodes();
  const int64_t now = wall_ms();
  nlohmann::json changed = nlohmann::json::array();
  for (const auto& n : rows) {
    auto d = digest(n);
    auto& known = node_digests_[n.node_id];
    if (known == d) continue;
    known = std::move(d);
    if (announce) changed.push_back(to_json(n, now));
  }
  if (changed.empty()) return {};
  return message("nodes", {{"nodes", std::move(changed)}});
}

std::string LiveFeed::poll_rollouts(bool announce) {
  if (!rollouts_) return {};
  nlohmann::json list;
  try {
    list = rollouts_->list_rollouts();
  } catch (const std::exception&) {
    return {};
  }
  std::string d = list.dump();
  if (d == rollouts_digest_) return {};
  rollouts_digest_ = std::move(d);
  return announce ? message("rollouts", {{"rollouts", std::move(list)}}) : std::string();
}

}  // namespace tinyedge::dashboard
