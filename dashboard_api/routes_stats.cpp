// GET /api/v1/stats/labels (per-label counts and score histograms per bucket) and
// GET /api/v1/stats/latency (per-model latency percentiles).
#include <algorithm>
#include <chrono>
#include <set>

#include "dashboard_api/dashboard_api.h"
#include "dashboard_api/json_views.h"

namespace tinyedge::dashboard {
namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A bucket that gives about 60 points over the window, rounded to a readable step.
int64_t default_bucket(int64_t window_ms) {
  static constexpr int64_t kSteps[] = {1000,    5000,     10000,     30000,     60000,     300000,
                                       600000,  1800000,  3600000,   10800000,  21600000,  86400000};
  for (int64_t step : kSteps)
    if (window_ms / step <= 60) return step;
  return 86400000;
}

// One name per label index for a view over several model versions: the name every version in
// scope that names the index agrees on, else the names joined ("coat / pullover") so the reader
// sees the view mixes models.
LabelList merged_labels(const std::vector<LabelList>& lists) {
  size_t count = 0;
  for (const auto& l : lists)
    if (l) count = std::max(count, l->size());
  if (count == 0) return nullptr;
  auto out = std::make_shared<std::vector<std::string>>(count);
  for (size_t i = 0; i < count; ++i) {
    std::vector<std::string> names;
    for (const auto& l : lists)
      if (l && i < l->size() && !(*l)[i].empty() && std::find(names.begin(), names.end(), (*l)[i]) == names.end())
        names.push_back((*l)[i]);
    for (const auto& n : names) (*out)[i] += ((*out)[i].empty() ? "" : " / ") + n;
  }
  return out;
}

}  // namespace

void DashboardApi::add_stats_routes() {
  router_.add(
      {.method = Method::kGet,
       .pattern = "/api/v1/stats/labels",
       .role = Role::kViewer,
       .tag = "stats",
       .summary = "Per-label event counts and score histograms (8 bins of 32) per time bucket",
       .params = {{.name = "window", .type = ParamType::kDuration, .description = "how far back from 'until' (default 1h)"},
                  {.name = "until", .type = ParamType::kTimestamp, .description = "end of the window (default now)"},
                  {.name = "bucket", .type = ParamType::kDuration, .description = "bucket width (default: about 60 buckets)"},
                  {.name = "node", .type = ParamType::kNodeId, .description = "only this node"},
                  {.name = "group", .type = ParamType::kLabel, .description = "only nodes in this group"}},
       .handler = [this](const RouteContext& c) {
         gateway::LabelStatsFilter f;
         const int64_t window = c.params.integer("window").value_or(3'600'000);
         f.to_ms = c.params.integer("until").value_or(wall_ms());
         f.from_ms = std::max<int64_t>(0, f.to_ms - window);
         f.bucket_ms = c.params.integer("bucket").value_or(default_bucket(window));
         if (window / f.bucket_ms > 10000)
           throw ApiError(400, "invalid_parameter", "parameter 'bucket': gives more than 10000 buckets over the window");
         f.node_id = c.params.str("node");
         f.group = c.params.str("group");
         if (f.node_id && f.group)
           throw ApiError(400, "invalid_parameter", "parameter 'group': give either 'node' or 'group', not both");
         // Exactly the window asked for: the store's buckets lie on multiples of their width, so
         // fleet-wide buckets of whole minutes read the per-minute rollup whatever the window's
         // ends, and only its two partial minutes are counted from the events (store/query.h).
         std::vector<gateway::LabelBucket> buckets;
         std::vector<std::pair<uint32_t, uint32_t>> versions;  // names from the models the nodes in scope run now
         {
           auto q = queries_.borrow();
           buckets = q->label_stats(f);
           versions = q->model_versions(f.node_id, f.group);
         }
         std::vector<LabelList> lists;
         for (const auto& [model, version] : versions) lists.push_back(catalog_.labels(model, version));
         const LabelList labels = merged_labels(lists);
         nlohmann::json rows = nlohmann::json::array();
         std::map<uint32_t, uint64_t> totals;
         for (const auto& b : buckets) {
           auto row = to_json(b);
           row["label_name"] = label_name(labels, b.label);
           rows.push_back(std::move(row));
           totals[b.label] += b.count;
         }
         nlohmann::json tot = nlohmann::json::array();
         for (const auto& [label, n] : totals)
           tot.push_back({{"label", label}, {"label_name", label_name(labels, label)}, {"count", n}});
         return json_response(200, nlohmann::json{{"from_ms", f.from_ms},
                                                  {"to_ms", f.to_ms},
                                                  {"bucket_ms", f.bucket_ms},
                                                  {"buckets", std::move(rows)},
                                                  {"totals", std::move(tot)}});
       }});
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/stats/latency",
               .role = Role::kViewer,
               .tag = "stats",
               .summary = "Inference latency percentiles per model version",
               .params = {{.name = "window", .type = ParamType::kDuration, .description = "how far back from 'until' (default 24h)"},
                          {.name = "until", .type = ParamType::kTimestamp, .description = "end of the window (default now)"}},
               .handler = [this](const RouteContext& c) {
                 const int64_t to = c.params.integer("until").value_or(wall_ms());
                 const int64_t from = std::max<int64_t>(0, to - c.params.integer("window").value_or(86'400'000));
                 std::vector<gateway::LatencyStats> stats;
                 {
                   auto q = queries_.borrow();
                   stats = q->latency_percentiles({.from_ms = from, .to_ms = to, .model = std::nullopt});
                 }
                 nlohmann::json rows = nlohmann::json::array();
                 for (const auto& s : stats) rows.push_back(to_json(s));
                 return json_response(200,
                                      nlohmann::json{{"from_ms", from}, {"to_ms", to}, {"models", std::move(rows)}});
               }});
}

}  // namespace tinyedge::dashboard
