#include "dashboard_api/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dashboard_api/openapi.h"

namespace tinyedge::dashboard {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : router_(&tokens_) {
    tokens_.add("v", "viewer", to_hex(sha256("v-token")));
    tokens_.add("o", "operator", to_hex(sha256("o-token")));
    router_.add({.method = Method::kGet, .pattern = "/api/v1/nodes/{id}", .role = Role::kViewer, .tag = "nodes",
                 .summary = "one node", .handler = [](const RouteContext& c) {
                   return json_response(200, nlohmann::json{{"id", c.path.at("id")}});
                 }});
    router_.add({.method = Method::kPost, .pattern = "/api/v1/nodes/{id}/groups", .role = Role::kOperator,
                 .tag = "nodes", .summary = "set groups", .handler = [](const RouteContext&) {
                   return json_text_response(200, "{}");
                 }});
    router_.add({.method = Method::kGet, .pattern = "/healthz", .role = Role::kNone, .tag = "system",
                 .summary = "health", .params = {{.name = "verbose", .type = ParamType::kEnum, .choices = {"1"}}},
                 .handler = [](const RouteContext&) { return json_text_response(200, "{}"); }});
    router_.add({.method = Method::kGet, .pattern = "/boom", .role = Role::kNone, .tag = "system", .summary = "throws",
                 .handler = [](const RouteContext&) -> ApiResponse { throw std::runtime_error("kaboom"); }});
  }

  ApiResponse call(Method m, const std::string& path, const std::string& auth = "",
                   std::vector<std::pair<std::string, std::string>> q = {}) {
    ApiRequest r;
    r.method = m;
    r.path = path;
    r.authorization = auth;
    r.query = std::move(q);
    return router_.dispatch(r);
  }

  static std::string code(const ApiResponse& r) {
    return nlohmann::json::parse(r.body)["error"]["code"].get<std::string>();
  }

  TokenTable tokens_;
  Router router_;
};

TEST_F(RouterTest, RolesDecideAccess) {
  EXPECT_EQ(call(Method::kGet, "/api/v1/nodes/n1").status, 401);
  EXPECT_EQ(call(Method::kGet, "/api/v1/nodes/n1", "Bearer wrong").status, 401);
  auto ok = call(Method::kGet, "/api/v1/nodes/n1", "Bearer v-token");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(nlohmann::json::parse(ok.body)["id"], "n1");
  auto denied = call(Method::kPost, "/api/v1/nodes/n1/groups", "Bearer v-token");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(code(denied), "forbidden");
  EXPECT_EQ(call(Method::kPost, "/api/v1/nodes/n1/groups", "Bearer o-token").status, 200);
  EXPECT_EQ(call(Method::kGet, "/healthz").status, 200);
}

TEST_F(RouterTest, UnknownPathsMethodsAndParamsAreClientErrors) {
  EXPECT_EQ(call(Method::kGet, "/nope").status, 404);
  EXPECT_EQ(call(Method::kDelete, "/api/v1/nodes/n1", "Bearer o-token").status, 405);
  EXPECT_EQ(call(Method::kGet, "/api/v1/nodes/bad!id", "Bearer v-token").status, 400);
  auto r = call(Method::kGet, "/healthz", "", {{"verbose", "2"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("verbose"), std::string::npos);
}

TEST_F(RouterTest, HandlerExceptionsBecome500WithoutEscaping) {
  auto r = call(Method::kGet, "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(code(r), "internal_error");
}

TEST_F(RouterTest, OpenApiListsEveryRouteWithItsRole) {
  auto doc = nlohmann::json::parse(openapi_document(router_, "test"));
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_EQ(doc["paths"]["/api/v1/nodes/{id}"]["get"]["x-required-role"], "viewer");
  EXPECT_EQ(doc["paths"]["/api/v1/nodes/{id}/groups"]["post"]["x-required-role"], "operator");
  EXPECT_EQ(doc["paths"]["/healthz"]["get"]["parameters"][0]["name"], "verbose");
  EXPECT_EQ(doc["paths"].size(), 4u);
}

}  // namespace
}  // namespace tinyedge::dashboard
