// GET/POST /api/v1/models: the model registry (uploads must verify against the fleet key), and
// GET /api/v1/models/{id}: one package with its manifest, its .tem facts (labels, arena) and where
// it runs.
#include <chrono>
#include <cstdint>

#include "dashboard_api/dashboard_api.h"

namespace tinyedge::dashboard {
namespace {

int64_t registry_id(const RouteContext& c) {
  const std::string& text = c.path.at("id");
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoll(text) <= 0)
    throw ApiError(400, "invalid_parameter", "path parameter 'id': must be a positive integer (the registry id)");
  return std::stoll(text);
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// A registry entry with what its .tem says beside the manifest, and how many nodes run it now.
nlohmann::json DashboardApi::model_view(nlohmann::json model, const std::vector<gateway::NodeRow>& nodes) {
  const auto facts = catalog_.facts(model.value("id", int64_t{0}));
  model["labels"] = facts ? nlohmann::json(facts->labels) : nlohmann::json::array();
  model["arena_bytes"] = facts ? nlohmann::json(facts->arena_bytes) : nlohmann::json(nullptr);
  model["weights_bytes"] = facts ? nlohmann::json(facts->weights_bytes) : nlohmann::json(nullptr);
  model["input_description"] = facts ? nlohmann::json(facts->input_description) : nlohmann::json(nullptr);
  if (facts && model.value("name", std::string()).empty()) model["name"] = facts->name;
  const auto id = model.value("model_id", 0u), version = model.value("version", 0u);
  size_t running = 0;
  for (const auto& n : nodes) running += n.model_id == id && n.model_version == version;
  model["running_on"] = running;
  return model;
}

void DashboardApi::add_model_routes() {
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/models",
               .role = Role::kViewer,
               .tag = "models",
               .summary = "Registered signed model packages, with their labels and how many nodes run each",
               .handler = [this](const RouteContext&) {
                 auto models = rollouts().list_models();
                 std::vector<gateway::NodeRow> nodes;
                 {
                   auto q = queries_.borrow();
                   nodes = q->nodes();
                 }
                 nlohmann::json out = nlohmann::json::array();
                 for (auto& m : models) out.push_back(model_view(std::move(m), nodes));
                 return json_response(200, nlohmann::json{{"models", std::move(out)}});
               }});
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/models/{id}",
               .role = Role::kViewer,
               .tag = "models",
               .summary = "One registered package: manifest, labels, arena, the nodes running it and its latency",
               .params = {{.name = "limit", .type = ParamType::kInteger, .description = "at most this many of the nodes running it (by id; default: all); nodes_count covers them all", .min = 1, .max = 10000},
                          {.name = "offset", .type = ParamType::kInteger, .description = "skip this many of the nodes running it first", .min = 0, .max = 1e9}},
               .handler = [this](const RouteContext& c) {
                 const int64_t id = registry_id(c);
                 nlohmann::json found;
                 for (auto& m : rollouts().list_models())
                   if (m.value("id", int64_t{0}) == id) found = std::move(m);
                 if (found.is_null()) throw ApiError(404, "not_found", "no model " + std::to_string(id) + " in the registry");
                 std::vector<gateway::NodeRow> nodes;
                 {
                   auto q = queries_.borrow();
                   nodes = q->nodes();
                 }
                 auto out = model_view(std::move(found), nodes);
                 const auto model_id = out.value("model_id", 0u), version = out.value("version", 0u);
                 // This model version's day only, from the latency rollup (query.h): at 10M events
                 // a day the fleet-wide count over every event took seconds.
                 std::vector<gateway::LatencyStats> latency;
                 {
                   const int64_t now = wall_ms();
                   auto q = queries_.borrow();
                   latency = q->latency_percentiles(
                       {.from_ms = now - 86'400'000, .to_ms = now, .model = std::pair{model_id, version}});
                 }
                 // A model 5,000 nodes run listed them all (180 KB): the page asks for one page.
                 const auto offset = static_cast<size_t>(c.params.integer("offset").value_or(0));
                 const auto limit = c.params.integer("limit");
                 const size_t end = limit ? offset + static_cast<size_t>(*limit) : SIZE_MAX;
                 nlohmann::json running = nlohmann::json::array();
                 size_t count = 0;
                 for (const auto& n : nodes) {
                   if (n.model_id != model_id || n.model_version != version) continue;
                   if (count >= offset && count < end)
                     running.push_back({{"id", n.node_id}, {"status", n.online ? "online" : "offline"}});
                   ++count;
                 }
                 out["nodes"] = std::move(running);
                 out["nodes_count"] = count;
                 out["nodes_offset"] = offset;
                 out["next_offset"] = end < count ? nlohmann::json(end) : nlohmann::json(nullptr);
                 out["results_24h"] = nullptr;
                 for (const auto& s : latency)
                   if (s.model_id == model_id && s.model_version == version)
                     out["results_24h"] = {{"count", s.count}, {"p50_us", s.p50_us}, {"p99_us", s.p99_us}};
                 // Results carry no ground truth: the log can tell accuracy only where a data set's
                 // true labels are known beside it, which the gateway does not hold.
                 out["accuracy"] = nullptr;
                 out["accuracy_note"] = "not known from the log: results carry no true labels";
                 return json_response(200, out);
               }});
  router_.add({.method = Method::kPost,
               .pattern = "/api/v1/models",
               .role = Role::kOperator,
               .tag = "models",
               .summary = "Upload a signed package (.tep); refused unless its signature and hash verify",
               .body_media_type = "application/octet-stream",
               .handler = [this](const RouteContext& c) {
                 if (c.request.body.empty()) throw ApiError(400, "invalid_body", "body: empty; send the .tep bytes");
                 const auto* bytes = reinterpret_cast<const uint8_t*>(c.request.body.data());
                 auto model = rollouts().add_model({bytes, c.request.body.size()});
                 return json_response(201, model);
               }});
}

}  // namespace tinyedge::dashboard
