// GET /api/v1/stream: the live feed (server-sent events), behind the same bearer token and role
// as the rest of the API; GET /api/v1/session: the caller's role.
#include "dashboard_api/dashboard_api.h"
#include "dashboard_api/live_feed.h"

namespace tinyedge::dashboard {

void DashboardApi::add_stream_routes() {
  router_.add(
      {.method = Method::kGet,
       .pattern = "/api/v1/session",
       .role = Role::kViewer,
       .tag = "live",
       .summary = "Who the token is: its role (viewer or operator), so a page offers only the actions it may take",
       .handler = [](const RouteContext& c) {
         return json_response(200, nlohmann::json{{"role", to_string(c.caller ? c.caller->role : Role::kNone)},
                                                  {"name", c.caller ? c.caller->name : std::string()}});
       }});
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/stream",
               .role = Role::kViewer,
               .tag = "live",
               .summary = "Server-sent events: new results (named), node changes and rollout progress as they happen",
               .response_media_type = "text/event-stream",
               .handler = [this](const RouteContext&) {
                 auto feed = std::make_shared<LiveFeed>(queries_, catalog_, services_.rollouts);
                 ApiResponse r{200, "text/event-stream; charset=utf-8", feed->hello(), {}};
                 r.feed = std::move(feed);
                 return r;
               }});
}

}  // namespace tinyedge::dashboard
