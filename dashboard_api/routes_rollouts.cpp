// /api/v1/rollouts: start, list, inspect (progress per wave), pause, resume, abort, cancel one node.
#include <algorithm>

#include "dashboard_api/dashboard_api.h"
#include "dashboard_api/gate_view.h"

namespace tinyedge::dashboard {
namespace {

int64_t rollout_id(const RouteContext& c) {
  const std::string& text = c.path.at("id");
  int64_t id = 0;
  if (text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos || (id = std::stoll(text)) <= 0)
    throw ApiError(400, "invalid_parameter", "path parameter 'id': must be a positive integer");
  return id;
}

nlohmann::json json_body(const RouteContext& c, bool allow_empty) {
  if (c.request.body.empty() && allow_empty) return nlohmann::json::object();
  auto j = nlohmann::json::parse(c.request.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw ApiError(400, "invalid_body", "body must be a JSON object");
  return j;
}

}  // namespace

void DashboardApi::add_rollout_routes() {
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/rollouts",
               .role = Role::kViewer,
               .tag = "rollouts",
               .summary = "Every rollout with its state",
               .handler = [this](const RouteContext&) {
                 return json_response(200, nlohmann::json{{"rollouts", rollouts().list_rollouts()}});
               }});
  router_.add({.method = Method::kPost,
               .pattern = "/api/v1/rollouts",
               .role = Role::kOperator,
               .tag = "rollouts",
               .summary = "Start a rollout of a registered model to a target, in canary + waves",
               .body_schema = R"({"type":"object","properties":{"model_ref":{"type":"integer"},"model_id":{"type":"integer"},"version":{"type":"integer"},"target":{"type":"string","example":"group:lab"},"canary":{"type":"string","example":"5%"},"waves":{"type":"string","example":"25,50,100"},"max_failures":{"type":"string","example":"2%"},"soak":{"type":"string","example":"30s"},"max_concurrent":{"type":"integer"},"node_timeout":{"type":"string"},"deadline":{"type":"string"},"gate":{"type":"object"}}})",
               .body_media_type = "application/json",
               .handler = [this](const RouteContext& c) {
                 return json_response(201, rollouts().start_rollout(json_body(c, false)));
               }});
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/rollouts/{id}",
               .role = Role::kViewer,
               .tag = "rollouts",
               .summary = "One rollout with progress per wave and per node",
               .params = {{.name = "limit", .type = ParamType::kInteger, .description = "at most this many of its nodes (in rollout order; default: all); counts and waves still cover every node", .min = 1, .max = 10000},
                          {.name = "offset", .type = ParamType::kInteger, .description = "skip this many of its nodes first (with limit: one page of a large rollout)", .min = 0, .max = 1e9}},
               .handler = [this](const RouteContext& c) {
                 const int64_t id = rollout_id(c);
                 auto view = rollouts().get_rollout(id);
                 // A 2,000-node rollout lists 390 KB of nodes: the page asks for one page of them.
                 const auto limit = c.params.integer("limit");
                 const auto offset = static_cast<size_t>(c.params.integer("offset").value_or(0));
                 if (limit || offset) {
                   auto& nodes = view["nodes"];
                   const size_t count = nodes.size(), end = limit ? offset + static_cast<size_t>(*limit) : count;
                   nlohmann::json page = nlohmann::json::array();
                   for (size_t i = offset; i < std::min(end, count); ++i) page.push_back(std::move(nodes[i]));
                   nodes = std::move(page);
                   view["nodes_count"] = count;
                   view["nodes_offset"] = offset;
                   view["next_offset"] = end < count ? nlohmann::json(end) : nlohmann::json(nullptr);
                 }
                 return json_response(200, std::move(view));
               }});
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/rollouts/{id}/gate",
               .role = Role::kViewer,
               .tag = "rollouts",
               .summary = "The quality gate over the log: canary vs control label mix, scores and latency, with bounds and noise floor",
               .handler = [this](const RouteContext& c) {
                 const int64_t id = rollout_id(c);
                 const auto r = rollouts().get_rollout(id);
                 const auto labels = catalog_.labels(r.value("model_id", 0u), r.value("version", 0u));
                 auto q = queries_.borrow();
                 return json_response(200, gate_view(r, *q, labels));
               }});
  router_.add({.method = Method::kPost,
               .pattern = "/api/v1/rollouts/{id}/pause",
               .role = Role::kOperator,
               .tag = "rollouts",
               .summary = "Pause a running rollout",
               .handler = [this](const RouteContext& c) {
                 const int64_t id = rollout_id(c);
                 return json_response(200, rollouts().pause(id));
               }});
  router_.add({.method = Method::kPost,
               .pattern = "/api/v1/rollouts/{id}/resume",
               .role = Role::kOperator,
               .tag = "rollouts",
               .summary = "Resume a paused rollout",
               .handler = [this](const RouteContext& c) {
                 const int64_t id = rollout_id(c);
                 return json_response(200, rollouts().resume(id));
               }});
  router_.add({.method = Method::kPost,
               .pattern = "/api/v1/rollouts/{id}/abort",
               .role = Role::kOperator,
               .tag = "rollouts",
               .summary = "Abort a rollout, optionally offering the previous model back (rollback)",
               .body_schema = R"({"type":"object","properties":{"rollback":{"type":"boolean"}}})",
               .body_media_type = "application/json",
               .handler = [this](const RouteContext& c) {
                 const int64_t id = rollout_id(c);
                 auto body = json_body(c, true);
                 bool rollback = false;
                 if (body.contains("rollback")) {
                   if (!body["rollback"].is_boolean()) throw ApiError(400, "invalid_body", "body field 'rollback': must be true or false");
                   rollback = body["rollback"].get<bool>();
                 }
                 return json_response(200, rollouts().abort(id, rollback));
               }});
  router_.add({.method = Method::kPost,
               .pattern = "/api/v1/rollouts/{id}/nodes/{node}/cancel",
               .role = Role::kOperator,
               .tag = "rollouts",
               .summary = "Take one node out of a running rollout: it stops downloading and keeps its model (409 once activated)",
               .handler = [this](const RouteContext& c) {
                 const int64_t id = rollout_id(c);
                 return json_response(200, rollouts().cancel_node(id, c.path.at("node")));
               }});
}

}  // namespace tinyedge::dashboard
