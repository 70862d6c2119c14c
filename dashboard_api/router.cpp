#include "dashboard_api/router.h"

#include "protocol/topics.h"

namespace tinyedge::dashboard {

const char* to_string(Method m) {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kHead: return "HEAD";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kDelete: return "DELETE";
    case Method::kOther: return "OTHER";
  }
  return "?";
}

const char* to_string(Role r) {
  switch (r) {
    case Role::kNone: return "public";
    case Role::kViewer: return "viewer";
    case Role::kOperator: return "operator";
  }
  return "?";
}

void Router::add(Route route) { routes_.push_back(std::move(route)); }

bool Router::match(const std::string& pattern, const std::string& path, std::map<std::string, std::string>& out) {
  size_t p = 0, q = 0;
  while (p < pattern.size() && q <= path.size()) {
    if (pattern[p] == '{') {
      const size_t close = pattern.find('}', p);
      const std::string name = pattern.substr(p + 1, close - p - 1);
      size_t end = path.find('/', q);
      if (end == std::string::npos) end = path.size();
      if (end == q) return false;
      out[name] = path.substr(q, end - q);
      p = close + 1;
      q = end;
      continue;
    }
    if (q >= path.size() || pattern[p] != path[q]) return false;
    ++p;
    ++q;
  }
  return p == pattern.size() && q == path.size();
}

const Route* Router::find(const ApiRequest& request, std::map<std::string, std::string>& path_params,
                          std::optional<ApiResponse>& refusal) const {
  bool path_known = false;
  const Method method = request.method == Method::kHead ? Method::kGet : request.method;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> captured;
    if (!match(r.pattern, request.path, captured)) continue;
    path_known = true;
    if (r.method == method) {
      path_params = std::move(captured);
      return &r;
    }
  }
  if (path_known)
    refusal = error_response(405, "method_not_allowed",
                             std::string(to_string(request.method)) + " is not allowed on " + request.path);
  else
    refusal = error_response(404, "not_found", "no such resource");
  return nullptr;
}

std::optional<ApiResponse> Router::authorize(const Route& route, const ApiRequest& request,
                                             std::optional<TokenEntry>& caller) const {
  if (route.role == Role::kNone) return std::nullopt;
  if (request.authorization.empty())
    return error_response(401, "unauthorized", "missing Authorization: Bearer <token> header");
  caller = tokens_ ? tokens_->authenticate(request.authorization) : std::nullopt;
  if (!caller) return error_response(401, "unauthorized", "unknown or malformed bearer token");
  if (static_cast<int>(caller->role) < static_cast<int>(route.role))
    return error_response(403, "forbidden",
                          std::string("this route needs the ") + to_string(route.role) + " role; token '" +
                              caller->name + "' has " + to_string(caller->role));
  return std::nullopt;
}

std::optional<ApiResponse> Router::admit(const ApiRequest& headers_only) const {
  try {
    std::map<std::string, std::string> path_params;
    std::optional<ApiResponse> refusal;
    const Route* route = find(headers_only, path_params, refusal);
    // The static dashboard answers GETs no route claims; its own checks run after the body.
    if (!route && refusal->status == 404 && fallback_ && headers_only.method == Method::kGet) return std::nullopt;
    if (!route) return refusal;
    std::optional<TokenEntry> caller;
    return authorize(*route, headers_only, caller);
  } catch (const std::exception& e) {
    return error_response(500, "internal_error", e.what());
  }
}

ApiResponse Router::dispatch(const ApiRequest& request) const {
  try {
    std::map<std::string, std::string> path_params;
    std::optional<ApiResponse> refusal;
    const Route* found = find(request, path_params, refusal);
    if (!found) {
      const Method method = request.method == Method::kHead ? Method::kGet : request.method;
      if (refusal->status == 404 && fallback_ && method == Method::kGet)
        if (auto r = fallback_(request)) return *r;
      return *refusal;
    }
    std::optional<TokenEntry> caller;
    if (auto denied = authorize(*found, request, caller)) return *denied;
    for (const auto& [name, value] : path_params)
      if (name == "id" && found->pattern.find("/nodes/") != std::string::npos && !protocol::is_valid_node_id(value))
        return error_response(400, "invalid_parameter", "path parameter 'id': not a valid node id");
    Params params = Params::validate(request.query, found->params);
    RouteContext ctx{request, params, std::move(path_params), caller ? &*caller : nullptr};
    ApiResponse response = found->handler(ctx);
    if (request.method == Method::kHead) response.body.clear();
    return response;
  } catch (const ApiError& e) {
    return error_response(e.status(), e.code(), e.what());
  } catch (const std::exception& e) {
    return error_response(500, "internal_error", e.what());
  }
}

}  // namespace tinyedge::dashboard
