#include "tests/soak/store_audit.h"

#include <algorithm>
#include <sstream>

#include "gateway/store/sqlite/database.h"

namespace tinyedge::soak {
namespace {

namespace sql = gateway::sql;

constexpr size_t kExamples = 5;

void example(std::vector<std::string>& list, const std::string& text) {
  if (list.size() < kExamples) list.push_back(text);
}

std::string where(const BootKey& key, uint32_t seq) {
  return key.node + " boot " + std::to_string(key.boot) + " seq " + std::to_string(seq);
}

void print(std::ostringstream& out, const char* what, uint64_t n, const std::vector<std::string>& examples) {
  out << "\n  " << what << ": " << n;
  if (examples.empty()) return;
  out << " (e.g.";
  for (const auto& e : examples) out << " [" << e << "]";
  out << (n > examples.size() ? " ...)" : ")");
}

}  // namespace

std::vector<StoredEvent> read_events(const std::string& db_path) {
  sql::Database db(db_path, sql::Database::Mode::kReadOnly);
  // LEFT JOIN: an event whose node row is missing is still counted (as an unexpected node).
  auto rows = db.prepare(
      "SELECT coalesce(n.node_id, '?ref' || e.node_ref), e.boot_id, e.seq, e.at_ms, e.received_ms, e.model_version "
      "FROM events e LEFT JOIN nodes n ON n.id = e.node_ref");
  std::vector<StoredEvent> events;
  while (rows.step()) {
    events.push_back({rows.text(0), static_cast<uint32_t>(rows.int64(1)), static_cast<uint32_t>(rows.int64(2)),
                      rows.int64(3), rows.int64(4), static_cast<uint32_t>(rows.int64(5))});
  }
  return events;
}

AuditReport audit(const SentLedger& ledger, const std::vector<StoredEvent>& events) {
  AuditReport r;
  r.stored_rows = events.size();
  r.nodes_sent = ledger.node_count();
  // Rows per (node, boot, seq).
  std::map<BootKey, std::vector<uint32_t>> stored;
  for (const auto& e : events) {
    auto& counts = stored[BootKey{e.node, e.boot}];
    if (counts.size() <= e.seq) counts.resize(static_cast<size_t>(e.seq) + 1, 0);
    ++counts[e.seq];
  }
  static const std::vector<uint32_t> kNone;
  for (const auto& [key, boot] : ledger.boots()) {
    r.sent_copies += boot.results_sent;
    if (boot.produced)
      r.unacked_at_exit += boot.unacked.value_or(0);
    else
      ++r.boots_without_final;
    const auto found = stored.find(key);
    const auto& rows = found == stored.end() ? kNone : found->second;
    for (uint32_t seq = 1; seq < boot.times_sent.size(); ++seq) {
      if (boot.times_sent[seq] == 0) continue;
      ++r.sent_distinct;
      const uint32_t n = seq < rows.size() ? rows[seq] : 0;
      if (n == 0) {
        ++r.missing;
        example(r.missing_examples, where(key, seq) + " sent " + std::to_string(boot.times_sent[seq]) + "x");
      } else if (n > 1) {
        r.duplicated += n - 1;
        example(r.duplicated_examples, where(key, seq) + " stored " + std::to_string(n) + "x");
      }
    }
    // Made but never handed to MQTT: the ring dropped them (not "sent", but worth knowing).
    if (boot.produced) {
      for (uint32_t seq = 1; seq <= *boot.produced; ++seq) {
        if (seq >= boot.times_sent.size() || boot.times_sent[seq] == 0) {
          ++r.never_sent;
          example(r.never_sent_examples, where(key, seq));
        }
      }
    }
  }
  // Stored rows no node boot claims to have sent.
  for (const auto& [key, rows] : stored) {
    const auto it = ledger.boots().find(key);
    for (uint32_t seq = 0; seq < rows.size(); ++seq) {
      if (rows[seq] == 0) continue;
      const bool sent = it != ledger.boots().end() && seq < it->second.times_sent.size() && it->second.times_sent[seq];
      if (!sent) {
        r.unexpected += rows[seq];
        example(r.unexpected_examples, where(key, seq));
      }
    }
  }
  return r;
}

std::string AuditReport::summary() const {
  std::ostringstream out;
  out << nodes_sent << " nodes sent " << sent_distinct << " distinct results (" << sent_copies
      << " copies with resends); store holds " << stored_rows << " rows";
  print(out, "missing (sent, not stored)", missing, missing_examples);
  print(out, "duplicated (extra rows)", duplicated, duplicated_examples);
  print(out, "unexpected (stored, never sent)", unexpected, unexpected_examples);
  print(out, "produced but never sent (ring overflow)", never_sent, never_sent_examples);
  out << "\n  unacked at node exit: " << unacked_at_exit
      << "; node boots without a final line: " << boots_without_final;
  return out.str();
}

Recovery recovery_after(const std::vector<StoredEvent>& events, int64_t down_ms, int64_t up_ms, int64_t window_ms) {
  Recovery r;
  int64_t first_after = INT64_MAX, last_caught = INT64_MIN;
  for (const auto& e : events) {
    if (e.received_ms >= up_ms) first_after = std::min(first_after, e.received_ms);
    if (e.at_ms >= down_ms - window_ms && e.at_ms < up_ms) last_caught = std::max(last_caught, e.received_ms);
  }
  if (first_after != INT64_MAX) r.resumed_ms = first_after - up_ms;
  if (last_caught != INT64_MIN) r.caught_up_ms = std::max<int64_t>(0, last_caught - up_ms);
  return r;
}

RolloutOutcome read_rollout(const std::string& db_path, int64_t rollout_id) {
  sql::Database db(db_path, sql::Database::Mode::kReadOnly);
  RolloutOutcome out;
  auto rollout = db.prepare("SELECT state, reason, created_ms, version FROM rollouts WHERE id = ?1");
  rollout.bind(1, rollout_id);
  if (!rollout.step()) {
    out.state = "absent";
    return out;
  }
  out.state = rollout.text(0);
  out.reason = rollout.text(1);
  out.created_ms = rollout.int64(2);
  out.version = static_cast<uint32_t>(rollout.int64(3));
  auto nodes = db.prepare(
      "SELECT node_id, state, reason, finished_ms FROM rollout_nodes WHERE rollout_id = ?1 "
      "ORDER BY ord");
  nodes.bind(1, rollout_id);
  while (nodes.step()) {
    ++out.nodes;
    const std::string state = nodes.text(1);
    ++out.node_states[state];
    out.last_finished_ms = std::max(out.last_finished_ms, nodes.int64(3));
    if (state != "activated") {
      example(out.not_activated_examples, nodes.text(0) + " " + state + " (" + nodes.text(2) + ")");
    }
  }
  return out;
}

std::vector<std::string> nodes_not_reporting_version(const std::vector<StoredEvent>& events, uint32_t version) {
  std::map<std::string, const StoredEvent*> newest;
  for (const auto& e : events) {
    const StoredEvent*& n = newest[e.node];
    if (!n || std::tie(e.boot, e.seq) > std::tie(n->boot, n->seq)) n = &e;
  }
  std::vector<std::string> out;
  for (const auto& [node, e] : newest) {
    if (e->model_version != version) out.push_back(node + " (v" + std::to_string(e->model_version) + ")");
  }
  return out;
}

std::vector<std::string> version_regressions(const std::vector<StoredEvent>& events) {
  std::map<std::string, std::vector<const StoredEvent*>> by_node;
  for (const auto& e : events) by_node[e.node].push_back(&e);
  std::vector<std::string> out;
  for (auto& [node, list] : by_node) {
    std::sort(list.begin(), list.end(), [](const StoredEvent* a, const StoredEvent* b) {
      return std::tie(a->boot, a->seq) < std::tie(b->boot, b->seq);
    });
    for (size_t i = 1; i < list.size(); ++i) {
      if (list[i]->model_version < list[i - 1]->model_version) {
        out.push_back(node + " v" + std::to_string(list[i - 1]->model_version) + "->v" +
                      std::to_string(list[i]->model_version) + " at boot " + std::to_string(list[i]->boot) + " seq " +
                      std::to_string(list[i]->seq));
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> fleet_view_not_on_version(const std::string& db_path, uint32_t version) {
  sql::Database db(db_path, sql::Database::Mode::kReadOnly);
  auto rows = db.prepare("SELECT node_id, coalesce(model_version, -1) FROM nodes WHERE model_version IS NOT ?1");
  rows.bind(1, int64_t{version});
  std::vector<std::string> out;
  while (rows.step()) out.push_back(rows.text(0) + " (v" + std::to_string(rows.int64(1)) + ")");
  return out;
}

}  // namespace tinyedge::soak
