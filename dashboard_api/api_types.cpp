#include "dashboard_api/api_types.h"

#include <nlohmann/json.hpp>

namespace tinyedge::dashboard {

std::string json_text(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

ApiResponse error_response(int status, const std::string& code, const std::string& message) {
  // A message may quote client input: json_text replaces invalid UTF-8 instead of throwing.
  return json_response(status, nlohmann::json{{"error", {{"status", status}, {"code", code}, {"message", message}}}});
}

ApiResponse json_response(int status, const nlohmann::json& body) {
  return ApiResponse{status, "application/json", json_text(body), {}};
}

ApiResponse json_text_response(int status, std::string json_text) {
  return ApiResponse{status, "application/json", std::move(json_text), {}};
}

}  // namespace tinyedge::dashboard
