#include "gateway/rollout/gateway_fleet.h"

#include <sqlite3.h>

#include <sstream>

#include "gateway/rollout/rollout_store.h"

namespace tinyedge::rollout {
namespace {

class Query {
 public:
  Query(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw StoreError(std::string("rollout fleet query: ") + sqlite3_errmsg(db));
    }
  }
  ~Query() { sqlite3_finalize(stmt_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  sqlite3_stmt* get() { return stmt_; }
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(std::string("rollout fleet query: ") + sqlite3_errmsg(db_));
  }
  std::string text(int c) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p ? p : "";
  }
  int64_t i64(int c) { return sqlite3_column_int64(stmt_, c); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

struct GatewayFleet::Impl {
  sqlite3* db = nullptr;
  ~Impl() { sqlite3_close(db); }
};

GatewayFleet::GatewayFleet(gateway::Gateway& gateway, const std::string& db_path)
    : gateway_(gateway), impl_(std::make_unique<Impl>()) {
  if (sqlite3_open_v2(db_path.c_str(), &impl_->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    throw StoreError("rollout fleet: cannot open " + db_path + ": " +
                     (impl_->db ? sqlite3_errmsg(impl_->db) : "out of memory"));
  }
  sqlite3_busy_timeout(impl_->db, 5000);
}

GatewayFleet::~GatewayFleet() = default;

std::vector<FleetNode> GatewayFleet::nodes() {
  Query q(impl_->db,
          "SELECT n.node_id, n.online, IFNULL(n.hardware, ''), IFNULL(n.model_id, 0), IFNULL(n.model_version, 0), "
          "IFNULL((SELECT group_concat(g.group_name, ',') FROM node_groups g WHERE g.node_ref = n.id), '') "
          "FROM nodes n ORDER BY n.node_id");
  std::vector<FleetNode> out;
  while (q.step()) {
    FleetNode n;
    n.node_id = q.text(0);
    n.online = q.i64(1) != 0;
    n.hardware = q.text(2);
    n.model_id = static_cast<uint32_t>(q.i64(3));
    n.model_version = static_cast<uint32_t>(q.i64(4));
    std::stringstream groups(q.text(5));
    std::string group;
    while (std::getline(groups, group, ',')) {
      if (!group.empty()) n.groups.push_back(group);
    }
    out.push_back(std::move(n));
  }
  return out;
}

bool GatewayFleet::send(const std::string& node_id, const tinyedge_v1_Downlink& downlink) {
  return gateway_.send_downlink(node_id, downlink);
}

size_t GatewayFleet::downlink_backlog(const std::string& node_id) { return gateway_.router().backlog_of(node_id); }

std::vector<InferenceRow> GatewayFleet::results_since(int64_t& cursor, size_t limit) {
  Query q(impl_->db,
          "SELECT e.id, n.node_id, e.model_id, e.model_version, e.label, e.score, e.latency_us, e.sample_id "
          "FROM events e JOIN nodes n ON n.id = e.node_ref WHERE e.id > ? ORDER BY e.id LIMIT ?");
  sqlite3_bind_int64(q.get(), 1, cursor);
  sqlite3_bind_int64(q.get(), 2, static_cast<int64_t>(limit));
  std::vector<InferenceRow> out;
  while (q.step()) {
    cursor = q.i64(0);
    InferenceRow r;
    r.node_id = q.text(1);
    r.model_id = static_cast<uint32_t>(q.i64(2));
    r.model_version = static_cast<uint32_t>(q.i64(3));
    r.label = static_cast<uint32_t>(q.i64(4));
    r.score = static_cast<uint32_t>(q.i64(5));
    r.latency_us = static_cast<uint32_t>(q.i64(6));
    r.sample_id = static_cast<uint32_t>(q.i64(7));
    out.push_back(std::move(r));
  }
  return out;
}

int64_t GatewayFleet::results_cursor() {
  Query q(impl_->db, "SELECT IFNULL(MAX(id), 0) FROM events");
  return q.step() ? q.i64(0) : 0;
}

}  // namespace tinyedge::rollout
