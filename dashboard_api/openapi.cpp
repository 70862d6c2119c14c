#include "dashboard_api/openapi.h"

#include <cctype>
#include <nlohmann/json.hpp>

namespace tinyedge::dashboard {
namespace {

using nlohmann::json;

json schema_for(const ParamSpec& p) {
  switch (p.type) {
    case ParamType::kInteger: {
      json s = {{"type", "integer"}, {"format", "int64"}};
      if (!(p.min == 0 && p.max == 0)) {
        s["minimum"] = static_cast<int64_t>(p.min);
        s["maximum"] = static_cast<int64_t>(p.max);
      }
      return s;
    }
    case ParamType::kNumber: {
      json s = {{"type", "number"}};
      if (!(p.min == 0 && p.max == 0)) {
        s["minimum"] = p.min;
        s["maximum"] = p.max;
      }
      return s;
    }
    case ParamType::kTimestamp:
      return {{"type", "string"}, {"description", "Unix milliseconds or RFC 3339"}, {"example", "2026-11-25T10:00:00Z"}};
    case ParamType::kDuration:
      return {{"type", "string"}, {"pattern", "^[0-9]+[smhd]$"}, {"example", "1h"}};
    case ParamType::kEnum:
      return {{"type", "string"}, {"enum", p.choices}};
    case ParamType::kNodeId:
      return {{"type", "string"}, {"pattern", "^[A-Za-z0-9_-]+$"}, {"maxLength", p.max_length}};
    case ParamType::kLabel:
    case ParamType::kString:
      return {{"type", "string"}, {"maxLength", p.max_length}};
  }
  return {{"type", "string"}};
}

std::string lower(const char* s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string openapi_document(const Router& router, const std::string& version) {
  json paths = json::object();
  for (const Route& r : router.routes()) {
    json op;
    op["summary"] = r.summary;
    op["tags"] = json::array({r.tag});
    op["operationId"] = lower(to_string(r.method)) + r.pattern;
    op["x-required-role"] = to_string(r.role);
    json params = json::array();
    for (size_t pos = r.pattern.find('{'); pos != std::string::npos; pos = r.pattern.find('{', pos + 1)) {
      const std::string name = r.pattern.substr(pos + 1, r.pattern.find('}', pos) - pos - 1);
      params.push_back({{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
    for (const auto& p : r.params)
      params.push_back(
          {{"name", p.name}, {"in", "query"}, {"required", p.required}, {"description", p.description},
           {"schema", schema_for(p)}});
    if (!params.empty()) op["parameters"] = params;
    if (!r.body_media_type.empty()) {
      json schema = r.body_schema.empty() ? json{{"type", "string"}, {"format", "binary"}} : json::parse(r.body_schema);
      op["requestBody"] = {{"required", true}, {"content", {{r.body_media_type, {{"schema", schema}}}}}};
    }
    if (r.role == Role::kNone) op["security"] = json::array();
    json responses = {{"200", {{"description", "OK"}, {"content", {{r.response_media_type, json::object()}}}}},
                      {"400", {{"$ref", "#/components/responses/Error"}}}};
    if (r.role != Role::kNone) {
      responses["401"] = {{"$ref", "#/components/responses/Error"}};
      responses["403"] = {{"$ref", "#/components/responses/Error"}};
    }
    if (r.pattern.find('{') != std::string::npos) responses["404"] = {{"$ref", "#/components/responses/Error"}};
    op["responses"] = responses;
    paths[r.pattern][lower(to_string(r.method))] = op;
  }
  json error_schema = {{"type", "object"},
                       {"properties",
                        {{"status", {{"type", "integer"}}},
                         {"code", {{"type", "string"}}},
                         {"message", {{"type", "string"}}}}}};
  json error_response = {{"description", "Error with a JSON body naming the problem"}};
  error_response["content"]["application/json"]["schema"] = {{"type", "object"},
                                                             {"properties", {{"error", error_schema}}}};
  json doc;
  doc["openapi"] = "3.0.3";
  doc["info"] = {{"title", "TinyEdge gateway API"},
                 {"version", version},
                 {"description",
                  "Inference log, fleet, aggregates, models and rollouts. Bearer tokens: viewer may GET, operator "
                  "may do everything."}};
  doc["servers"] = json::array({json{{"url", "/"}}});
  doc["security"] = json::array({json{{"bearer", json::array()}}});
  doc["paths"] = paths;
  doc["components"]["securitySchemes"]["bearer"] = {{"type", "http"}, {"scheme", "bearer"}};
  doc["components"]["responses"]["Error"] = error_response;
  return doc.dump(2);
}

}  // namespace tinyedge::dashboard
