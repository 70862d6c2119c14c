// The route table: one list that both serves requests and generates the OpenAPI document, so the
// two cannot drift apart. Each route declares its method, path pattern ("/api/v1/nodes/{id}"),
// the role it needs, its query parameters and its JSON request body (if any).
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dashboard_api/api_types.h"
#include "dashboard_api/auth.h"
#include "dashboard_api/params.h"

namespace tinyedge::dashboard {

struct RouteContext {
  const ApiRequest& request;
  const Params& params;
  std::map<std::string, std::string> path;  // values of {placeholders}
  const TokenEntry* caller = nullptr;       // null for public routes
};

using Handler = std::function<ApiResponse(const RouteContext&)>;

struct Route {
  Method method = Method::kGet;
  std::string pattern{};
  Role role = Role::kViewer;  // kNone: public
  std::string tag{};
  std::string summary{};
  std::vector<ParamSpec> params{};
  std::string body_schema{};    // JSON Schema text of the request body; empty when none
  std::string body_media_type{};  // "application/json" or "application/octet-stream"
  std::string response_media_type = "application/json";
  Handler handler{};
};

class Router {
 public:
  explicit Router(const TokenTable* tokens) : tokens_(tokens) {}
  void add(Route route);
  const std::vector<Route>& routes() const { return routes_; }

  // Matching, auth, parameter validation and the handler; never throws: every failure becomes a
  // JSON error response (404/405/401/403/400, or 500 for an unexpected exception).
  ApiResponse dispatch(const ApiRequest& request) const;

  // The checks that need only the request line and headers (route, method, token, role), made
  // before a body is read so that nobody can make the server hold a body it would refuse.
  // Returns the refusal (404/405/401/403), or nullopt when the body may be read.
  std::optional<ApiResponse> admit(const ApiRequest& headers_only) const;

  // Fallback for paths no route matches (the static dashboard); returns nullopt-like 404 if unset.
  void set_fallback(std::function<std::optional<ApiResponse>(const ApiRequest&)> fallback) {
    fallback_ = std::move(fallback);
  }

 private:
  static bool match(const std::string& pattern, const std::string& path, std::map<std::string, std::string>& out);
  // The route for the request, or the 404/405 refusal (nullptr route and a response).
  const Route* find(const ApiRequest& request, std::map<std::string, std::string>& path_params,
                    std::optional<ApiResponse>& refusal) const;
  // The caller's token for a route that needs one, or the 401/403 refusal.
  std::optional<ApiResponse> authorize(const Route& route, const ApiRequest& request,
                                       std::optional<TokenEntry>& caller) const;
  const TokenTable* tokens_;
  std::vector<Route> routes_;
  std::function<std::optional<ApiResponse>(const ApiRequest&)> fallback_;
};

}  // namespace tinyedge::dashboard
