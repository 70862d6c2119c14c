// GET /api/v1/nodes, GET /api/v1/nodes/{id}, PUT /api/v1/nodes/{id}/groups.
#include <algorithm>
#include <chrono>
#include <cstdint>

#include "dashboard_api/dashboard_api.h"
#include "dashboard_api/json_views.h"
#include "protocol/topics.h"

namespace tinyedge::dashboard {
namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool in_groups(const gateway::NodeRow& n, const std::string& g) {
  return std::find(n.groups.begin(), n.groups.end(), g) != n.groups.end();
}

}  // namespace

void DashboardApi::add_node_routes() {
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/nodes",
               .role = Role::kViewer,
               .tag = "nodes",
               .summary = "The fleet: every node with status, model version and last seen",
               .params = {{.name = "group", .type = ParamType::kLabel, .description = "only nodes in this group"},
                          {.name = "tag", .type = ParamType::kLabel, .description = "only nodes with this tag (groups and tags share one list)"},
                          {.name = "status", .type = ParamType::kEnum, .description = "online or offline", .choices = {"online", "offline"}},
                          {.name = "model_version", .type = ParamType::kInteger, .description = "only nodes running this model version", .min = 0, .max = 4294967295.0},
                          {.name = "limit", .type = ParamType::kInteger, .description = "at most this many nodes (by id; default: all); count and online still cover every match", .min = 1, .max = 10000},
                          {.name = "offset", .type = ParamType::kInteger, .description = "skip this many matching nodes first (with limit: one page of a large fleet)", .min = 0, .max = 1e9}},
               .handler = [this](const RouteContext& c) {
                 std::vector<gateway::NodeRow> rows;
                 {
                   auto q = queries_.borrow();
                   rows = q->nodes();
                 }
                 const auto group = c.params.str("group"), tag = c.params.str("tag"), status = c.params.str("status");
                 const auto version = c.params.integer("model_version");
                 const int64_t now = wall_ms();
                 // A page of a 10,000-node fleet is what a browser can draw; the counts still cover
                 // every match so the page can say how many there are.
                 const auto offset = static_cast<size_t>(c.params.integer("offset").value_or(0));
                 const auto limit = c.params.integer("limit");
                 const size_t end = limit ? offset + static_cast<size_t>(*limit) : SIZE_MAX;
                 nlohmann::json out = nlohmann::json::array();
                 size_t online = 0, count = 0;
                 for (const auto& n : rows) {
                   if (group && !in_groups(n, *group)) continue;
                   if (tag && !in_groups(n, *tag)) continue;
                   if (status && (*status == "online") != n.online) continue;
                   if (version && n.model_version != static_cast<uint64_t>(*version)) continue;
                   online += n.online;
                   if (count >= offset && count < end) out.push_back(to_json(n, now));
                   ++count;
                 }
                 nlohmann::json body{{"nodes", std::move(out)}, {"count", count}, {"online", online}, {"offset", offset}};
                 body["next_offset"] = end < count ? nlohmann::json(end) : nlohmann::json(nullptr);
                 return json_response(200, std::move(body));
               }});
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/nodes/{id}",
               .role = Role::kViewer,
               .tag = "nodes",
               .summary = "One node, and the unfinished rollout that still has it to update (rollout: {id, state, "
                          "node_state} or null)",
               .handler = [this](const RouteContext& c) {
                 const std::string& id = c.path.at("id");
                 std::optional<gateway::NodeRow> row;
                 {
                   auto q = queries_.borrow();
                   row = q->node(id);
                 }
                 if (!row) throw ApiError(404, "not_found", "no node '" + id + "'");
                 auto out = to_json(*row, wall_ms());
                 // A gateway without the rollout engine has no rollout to name.
                 out["rollout"] = has_rollouts() ? rollouts().rollout_of_node(id) : nlohmann::json(nullptr);
                 return json_response(200, out);
               }});
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/nodes/{id}/telemetry",
               .role = Role::kViewer,
               .tag = "nodes",
               .summary = "A node's Telemetry messages (failed inferences, reboots as boot ids, link as reconnects and "
                          "dropped/pending results), newest first",
               .params = {{.name = "limit", .type = ParamType::kInteger, .description = "at most this many (default 200)", .min = 1, .max = 10000}},
               .handler = [this](const RouteContext& c) {
                 const std::string& id = c.path.at("id");
                 const auto limit = static_cast<size_t>(c.params.integer("limit").value_or(200));
                 nlohmann::json out = nlohmann::json::array();
                 {
                   auto q = queries_.borrow();
                   if (!q->node(id)) throw ApiError(404, "not_found", "no node '" + id + "'");
                   for (const auto& t : q->telemetry(id, limit)) out.push_back(to_json(t));
                 }
                 return json_response(200, nlohmann::json{{"node", id}, {"telemetry", std::move(out)}});
               }});
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/nodes/{id}/ota",
               .role = Role::kViewer,
               .tag = "nodes",
               .summary = "A node's OTA status reports (state and reason by name), newest first",
               .params = {{.name = "limit", .type = ParamType::kInteger, .description = "at most this many (default 100)", .min = 1, .max = 10000}},
               .handler = [this](const RouteContext& c) {
                 const std::string& id = c.path.at("id");
                 const auto limit = static_cast<size_t>(c.params.integer("limit").value_or(100));
                 nlohmann::json out = nlohmann::json::array();
                 {
                   auto q = queries_.borrow();
                   if (!q->node(id)) throw ApiError(404, "not_found", "no node '" + id + "'");
                   for (const auto& o : q->ota_history(id, limit)) out.push_back(to_json(o));
                 }
                 return json_response(200, nlohmann::json{{"node", id}, {"ota", std::move(out)}});
               }});
  router_.add({.method = Method::kPut,
               .pattern = "/api/v1/nodes/{id}/groups",
               .role = Role::kOperator,
               .tag = "nodes",
               .summary = "Replace a node's groups/tags",
               .body_schema = R"({"type":"object","required":["groups"],"properties":{"groups":{"type":"array","maxItems":32,"items":{"type":"string","pattern":"^[A-Za-z0-9_.:-]{1,64}$"}}}})",
               .body_media_type = "application/json",
               .handler = [this](const RouteContext& c) {
                 if (!services_.set_groups) throw ApiError(503, "unavailable", "this gateway cannot change groups");
                 const std::string& id = c.path.at("id");
                 auto body = nlohmann::json::parse(c.request.body, nullptr, false);
                 if (body.is_discarded() || !body.is_object())
                   throw ApiError(400, "invalid_body", "body must be a JSON object like {\"groups\": [\"lab\"]}");
                 if (!body.contains("groups") || !body["groups"].is_array())
                   throw ApiError(400, "invalid_body", "body field 'groups': required, an array of strings");
                 if (body["groups"].size() > 32) throw ApiError(400, "invalid_body", "body field 'groups': at most 32");
                 gateway::GroupsItem item{id, {}};
                 for (const auto& g : body["groups"]) {
                   if (!g.is_string()) throw ApiError(400, "invalid_body", "body field 'groups': every item must be a string");
                   const std::string s = g.get<std::string>();
                   const bool ok = !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char ch) {
                     return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.' || ch == ':';
                   });
                   if (!ok) throw ApiError(400, "invalid_body", "body field 'groups': '" + s.substr(0, 64) + "' must be 1-64 of A-Z a-z 0-9 _ - . :");
                   item.groups.push_back(s);
                 }
                 {
                   auto q = queries_.borrow();
                   if (!q->node(id)) throw ApiError(404, "not_found", "no node '" + id + "'");
                 }
                 if (!services_.set_groups(item)) throw ApiError(503, "unavailable", "the store refused the change; retry");
                 return json_response(200, nlohmann::json{{"id", id}, {"groups", item.groups}});
               }});
}

}  // namespace tinyedge::dashboard
