// The OpenAPI 3 document, generated from the same Router that serves requests.
#pragma once
#include <string>

#include "dashboard_api/router.h"

namespace tinyedge::dashboard {

std::string openapi_document(const Router& router, const std::string& version);

}  // namespace tinyedge::dashboard
