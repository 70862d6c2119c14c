// GET /api/v1/events: the inference log, newest first, with cursor pagination and CSV export.
#include "dashboard_api/dashboard_api.h"
#include "dashboard_api/json_views.h"

namespace tinyedge::dashboard {

std::vector<ParamSpec> event_filter_params() {
  return {{.name = "node", .type = ParamType::kNodeId, .description = "only this node's events"},
          {.name = "group", .type = ParamType::kLabel, .description = "only events of nodes in this group"},
          {.name = "label", .type = ParamType::kInteger, .description = "top-1 label index", .min = 0, .max = 65535},
          {.name = "min_score", .type = ParamType::kInteger, .description = "top-1 score at least this (0..255)", .min = 0, .max = 255},
          {.name = "since", .type = ParamType::kTimestamp, .description = "inference time >= since"},
          {.name = "until", .type = ParamType::kTimestamp, .description = "inference time < until"}};
}

gateway::EventFilter event_filter_from(const Params& p) {
  gateway::EventFilter f;
  f.node_id = p.str("node");
  f.group = p.str("group");
  if (auto v = p.integer("label")) f.label = static_cast<uint32_t>(*v);
  if (auto v = p.integer("min_score")) f.min_score = static_cast<uint32_t>(*v);
  f.from_ms = p.integer("since");
  f.to_ms = p.integer("until");
  if (f.from_ms && f.to_ms && *f.from_ms >= *f.to_ms)
    throw ApiError(400, "invalid_parameter", "parameter 'until': must be later than 'since'");
  return f;
}

void DashboardApi::add_event_routes() {
  auto params = event_filter_params();
  params.push_back({.name = "limit", .type = ParamType::kInteger, .description = "page size (default 100)", .min = 1, .max = 5000});
  params.push_back({.name = "cursor", .type = ParamType::kInteger,
                    .description = "next_cursor of the previous page: continues strictly below it", .min = 1, .max = 9.0e18});
  params.push_back({.name = "format", .type = ParamType::kEnum, .description = "json (default) or csv", .choices = {"json", "csv"}});
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/events",
               .role = Role::kViewer,
               .tag = "events",
               .summary = "Inference log, newest first; stable cursor pagination while events arrive",
               .params = std::move(params),
               .handler = [this](const RouteContext& c) {
                 gateway::EventFilter f = event_filter_from(c.params);
                 f.limit = static_cast<size_t>(c.params.integer("limit").value_or(100));
                 f.before_id = c.params.integer("cursor");
                 auto q = queries_.borrow();
                 const gateway::EventPage page = q->events(f);
                 // A node's enrolled classes show by their names too (#16).
                 EnrolledNames names(catalog_, *q);
                 const auto labels_of = [&names](const gateway::EventRow& e) { return names.labels(e); };
                 if (c.params.str("format").value_or("json") == "csv") {
                   std::string csv = csv_header();
                   for (const auto& e : page.events) csv += to_csv(e, labels_of(e));
                   ApiResponse r{200, "text/csv; charset=utf-8", std::move(csv), {}};
                   if (page.next_cursor) r.headers.emplace_back("X-Next-Cursor", std::to_string(*page.next_cursor));
                   return r;
                 }
                 nlohmann::json events = nlohmann::json::array();
                 for (const auto& e : page.events) events.push_back(to_json(e, labels_of(e)));
                 nlohmann::json out = {{"count", page.events.size()}, {"events", std::move(events)}};
                 out["next_cursor"] = page.next_cursor ? nlohmann::json(*page.next_cursor) : nlohmann::json(nullptr);
                 return json_response(200, out);
               }});
}

}  // namespace tinyedge::dashboard
