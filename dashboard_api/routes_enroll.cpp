// Few-shot enrollment over the fleet (#16): GET/POST /api/v1/nodes/{id}/enrollment and
// DELETE /api/v1/nodes/{id}/enrollment?label=L (a query parameter: a label may hold '/'). A change goes to the node as
// an EnrollCommand downlink (the node's authenticated channel, as every command); the node's EnrollmentStatus comes
// back as an uplink, is stored, and shows here: the answer is read from `log`, not returned by the
// POST, because capturing examples takes the node as long as it takes.
#include <algorithm>
#include <chrono>
#include <cstring>

#include "dashboard_api/dashboard_api.h"
#include "gateway/ingest/uplink_validator.h"

namespace tinyedge::dashboard {
namespace {

constexpr size_t kMaxLabelBytes = 16;  // node_firmware/enroll: a class label, and the wire's bound
constexpr int64_t kMaxExamples = 32;   // beyond any node's table (it refuses above its own limit)

// The node's rule (printable ASCII, no spaces, 1..16): a label it could never hold is refused here,
// before anything is sent.
void check_label(const std::string& label) {
  const bool ok = !label.empty() && label.size() <= kMaxLabelBytes &&
                  std::all_of(label.begin(), label.end(), [](char c) { return c > ' ' && c <= '~'; });
  if (!ok) {
    throw ApiError(
        400, "invalid_body",
        "label '" + label.substr(0, kMaxLabelBytes + 1) + "': must be 1-16 printable ASCII characters without spaces");
  }
}

const char* action_name(uint32_t action) {
  switch (action) {
    case tinyedge_v1_EnrollCommand_Action_START:
      return "start";
    case tinyedge_v1_EnrollCommand_Action_REMOVE:
      return "remove";
    case tinyedge_v1_EnrollCommand_Action_LIST:
      return "list";
  }
  return "unknown";
}

nlohmann::json to_json(const gateway::EnrolledLabelRow& r) {
  return {{"label", r.label},
          {"position", r.position},
          {"examples_used", r.examples_used},
          {"distance", r.distance_q14 / 16384.0},
          {"nearest_label", r.nearest_label},
          {"enrolled_ms", r.enrolled_ms},
          {"model_id", r.model_id},
          {"model_version", r.model_version}};
}

nlohmann::json to_json(const gateway::EnrollmentLogRow& r) {
  return {{"received_ms", r.received_ms},
          {"action", action_name(r.action)},
          {"label", r.label},
          {"ok", r.refusal == tinyedge_v1_EnrollRefusal_ENROLL_OK},
          {"refusal", r.refusal},
          {"result", gateway::enroll_refusal_text(static_cast<int32_t>(r.refusal))},
          {"examples_used", r.examples_used},
          {"distance", r.distance_q14 / 16384.0},
          {"nearest_label", r.nearest_label}};
}

tinyedge_v1_EnrollCommand command(tinyedge_v1_EnrollCommand_Action action, const std::string& label,
                                  uint32_t examples) {
  tinyedge_v1_EnrollCommand c = tinyedge_v1_EnrollCommand_init_zero;
  c.action = action;
  std::memcpy(c.label, label.data(), std::min(label.size(), sizeof c.label - 1));
  c.examples = examples;
  return c;
}

}  // namespace

LabelList EnrolledNames::labels(const gateway::EventRow& e) {
  LabelList trained = catalog_.labels(e.model_id, e.model_version);
  // Without the trained count no enrolled index can be placed; a trained index needs no lookup.
  if (!trained || e.label < trained->size()) return trained;
  auto it = enrolled_.find(e.node_id);
  if (it == enrolled_.end()) it = enrolled_.emplace(e.node_id, query_.enrolled_labels(e.node_id)).first;
  if (it->second.empty()) return trained;
  // The node classifies enrolled class i as trained + i (node_firmware/enroll/enroller.h).
  auto names = std::make_shared<std::vector<std::string>>(*trained);
  for (const auto& row : it->second) {
    const size_t index = trained->size() + row.position;
    if (names->size() <= index) names->resize(index + 1);
    (*names)[index] = row.label;
  }
  return names;
}

void DashboardApi::add_enroll_routes() {
  router_.add({.method = Method::kGet,
               .pattern = "/api/v1/nodes/{id}/enrollment",
               .role = Role::kViewer,
               .tag = "nodes",
               .summary = "A node's enrolled classes (in its table's order) and its last enrollment answers, "
                          "refusals with their reason",
               .params = {{.name = "limit",
                           .type = ParamType::kInteger,
                           .description = "answers in `log`, newest first (default 20)",
                           .min = 1,
                           .max = 1000}},
               .handler = [this](const RouteContext& c) {
                 const std::string& id = c.path.at("id");
                 const size_t limit = static_cast<size_t>(c.params.integer("limit").value_or(20));
                 nlohmann::json labels = nlohmann::json::array(), log = nlohmann::json::array();
                 {
                   auto q = queries_.borrow();
                   if (!q->node(id)) throw ApiError(404, "not_found", "no node '" + id + "'");
                   for (const auto& r : q->enrolled_labels(id)) labels.push_back(to_json(r));
                   for (const auto& r : q->enrollment_log(id, limit)) log.push_back(to_json(r));
                 }
                 return json_response(200, nlohmann::json{{"node", id}, {"labels", labels}, {"log", log}});
               }});
  router_.add(
      {.method = Method::kPost,
       .pattern = "/api/v1/nodes/{id}/enrollment",
       .role = Role::kOperator,
       .tag = "nodes",
       .summary = "Ask a node to learn a class from its next `examples` examples; the node's answer "
                  "appears in GET .../enrollment",
       .body_schema =
           R"({"type":"object","required":["label","examples"],"properties":{"label":{"type":"string","pattern":"^[!-~]{1,16}$"},"examples":{"type":"integer","minimum":1,"maximum":32}}})",
       .body_media_type = "application/json",
       .handler = [this](const RouteContext& c) {
         auto body = nlohmann::json::parse(c.request.body, nullptr, false);
         if (body.is_discarded() || !body.is_object())
           throw ApiError(400, "invalid_body", "body must be a JSON object like {\"label\": \"mug\", \"examples\": 5}");
         if (!body.contains("label") || !body["label"].is_string())
           throw ApiError(400, "invalid_body", "body field 'label': required, a string");
         if (!body.contains("examples") || !body["examples"].is_number_integer())
           throw ApiError(400, "invalid_body", "body field 'examples': required, an integer");
         const std::string label = body["label"].get<std::string>();
         check_label(label);
         const int64_t examples = body["examples"].get<int64_t>();
         if (examples < 1 || examples > kMaxExamples)
           throw ApiError(400, "invalid_body", "body field 'examples': must be 1.." + std::to_string(kMaxExamples));
         return send_enroll(c.path.at("id"),
                            command(tinyedge_v1_EnrollCommand_Action_START, label, static_cast<uint32_t>(examples)));
       }});
  router_.add({.method = Method::kDelete,
               .pattern = "/api/v1/nodes/{id}/enrollment",
               .role = Role::kOperator,
               .tag = "nodes",
               .summary = "Ask a node to forget an enrolled class; the node's answer appears in GET .../enrollment",
               .params = {{.name = "label",
                           .type = ParamType::kLabel,
                           .description = "the enrolled class to remove",
                           .required = true}},
               .handler = [this](const RouteContext& c) {
                 const std::string label = *c.params.str("label");
                 check_label(label);
                 return send_enroll(c.path.at("id"), command(tinyedge_v1_EnrollCommand_Action_REMOVE, label, 0));
               }});
}

ApiResponse DashboardApi::send_enroll(const std::string& node_id, const tinyedge_v1_EnrollCommand& command) {
  if (!services_.send_enroll) throw ApiError(503, "unavailable", "this gateway cannot send commands to nodes");
  {
    auto q = queries_.borrow();
    if (!q->node(node_id)) throw ApiError(404, "not_found", "no node '" + node_id + "'");
  }
  const int64_t sent_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  if (!services_.send_enroll(node_id, command))
    throw ApiError(503, "unavailable", "no route to node '" + node_id + "' now (offline?); nothing was sent");
  return json_response(202, nlohmann::json{{"node", node_id},
                                           {"action", action_name(command.action)},
                                           {"label", command.label},
                                           {"examples", command.examples},
                                           {"sent_ms", sent_ms}});
}

}  // namespace tinyedge::dashboard
