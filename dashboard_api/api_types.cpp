#include "dashboard_api/api_types.h"

#include <nlohmann/json.hpp>

namespace tinyedge::dashboard {

ApiResponse error_response(int status, const std::string& code, const std::string& message) {
  nlohmann::json j = {{"error", {{"status", status}, {"code", code}, {"message", message}}}};
  // Replace invalid UTF-8 (a message may quote client input) instead of throwing.
  return ApiResponse{status, "application/json", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {}};
}

ApiResponse json_response(int status, const std::string& json_text) {
  return ApiResponse{status, "application/json", json_text, {}};
}

}  // namespace tinyedge::dashboard
