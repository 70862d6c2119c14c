#include "dashboard_api/static_assets.h"

#include <span>

namespace tinyedge::dashboard {

// Defined in the generated web_assets.cpp.
std::span<const StaticAsset> embedded_assets();

std::optional<StaticAsset> find_static_asset(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const auto& a : embedded_assets())
    if (a.path == path) return a;
  return std::nullopt;
}

std::optional<ApiResponse> serve_static(const ApiRequest& request) {
  auto asset = find_static_asset(request.path);
  if (!asset) return std::nullopt;
  ApiResponse r{200, std::string(asset->content_type), std::string(asset->body), {}};
  r.headers.emplace_back("Cache-Control", "no-cache");
  // The page talks only to this origin; no inline script, no framing.
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'");
  if (request.method == Method::kHead) r.body.clear();
  return r;
}

}  // namespace tinyedge::dashboard
