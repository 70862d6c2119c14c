// The web dashboard's files, embedded into the binary at build time (web/ -> generated source).
// Serving from memory means no filesystem path is ever built from a request: traversal has
// nothing to reach, and the gateway needs no install-time data directory.
#pragma once
#include <optional>
#include <string_view>

#include "dashboard_api/api_types.h"

namespace tinyedge::dashboard {

struct StaticAsset {
  std::string_view path;  // "/index.html"
  std::string_view content_type;
  std::string_view body;
};

std::optional<StaticAsset> find_static_asset(std::string_view path);  // "/" means "/index.html"
std::optional<ApiResponse> serve_static(const ApiRequest& request);

}  // namespace tinyedge::dashboard
