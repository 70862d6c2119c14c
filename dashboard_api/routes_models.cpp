// GET/POST /api/v1/models: the model registry (uploads must verify against the fleet key).
#include "dashboard_api/dashboard_api.h"

namespace tinyedge::dashboard {

void DashboardApi::add_model_routes() {
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/models",
               .role = Role::kViewer,
               .tag = "models",
               .summary = "Registered signed model packages",
               .handler = [this](const RouteContext&) {
                 return json_response(200, nlohmann::json{{"models", rollouts().list_models()}});
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
