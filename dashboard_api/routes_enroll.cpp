// Few-shot enrollment over the fleet (#16): GET/POST /api/v1/nodes/{id}/enrollment and
// DELETE /api/v1/nodes/{id}/enrollment?label=L (a query parameter: a label may hold '/'). A change goes to the node as
// an EnrollCommand downlink (the node's authenticated channel, as every command); the node's EnrollmentStatus comes
// back as an uplink, is stored, and shows here: the answer is read from `log`, not returned by the
// POST, because capturing examples takes the node as long as it takes.
#include <pb_decode.h>

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
    case tinyedge_v1_EnrollCommand_Action_SHARE:
      return "share";
    case tinyedge_v1_EnrollCommand_Action_DROPPED:
      return "dropped";
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
          {"model_version", r.model_version},
          {"shared_class", r.shared_class}};
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

// Hex of at most `capacity` bytes into `out`; throws naming the field otherwise.
pb_size_t unhex(const nlohmann::json& body, const char* field, uint8_t* out, size_t capacity) {
  if (!body.contains(field) || !body[field].is_string())
    throw ApiError(400, "invalid_body", std::string("body field '") + field + "': required, a hex string");
  const std::string hex = body[field].get<std::string>();
  auto nibble = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() / 2 > capacity ||
      !std::all_of(hex.begin(), hex.end(), [&](char c) { return nibble(c) >= 0; }))
    throw ApiError(
        400, "invalid_body",
        std::string("body field '") + field + "': must be 1.." + std::to_string(capacity) + " bytes as lower-case hex");
  for (size_t i = 0; i < hex.size() / 2; ++i)
    out[i] = static_cast<uint8_t>(nibble(hex[2 * i]) * 16 + nibble(hex[2 * i + 1]));
  return static_cast<pb_size_t>(hex.size() / 2);
}

// The request's body as a JSON object; `shape` shows the caller one.
nlohmann::json object_body(const RouteContext& c, const char* shape) {
  auto body = nlohmann::json::parse(c.request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    throw ApiError(400, "invalid_body", std::string("body must be a JSON object like ") + shape);
  return body;
}

// body[field], a string (non-empty unless `empty_ok`); throws naming the field.
std::string string_field(const nlohmann::json& body, const char* field, bool empty_ok) {
  if (!body.contains(field) || !body[field].is_string() || (!empty_ok && body[field].get<std::string>().empty()))
    throw ApiError(400, "invalid_body",
                   std::string("body field '") + field + "': required, a " + (empty_ok ? "" : "non-empty ") + "string");
  return body[field].get<std::string>();
}

// The node a share names as the one that learned the class ("" if unreadable: the nodes refuse
// it then). It is not sent the class back: it would only refuse a label it holds.
std::string share_source(const tinyedge_v1_EnrollShare& share) {
  tinyedge_v1_SharedClass shared = tinyedge_v1_SharedClass_init_zero;
  pb_istream_t in = pb_istream_from_buffer(share.shared_class.bytes, share.shared_class.size);
  if (!pb_decode(&in, tinyedge_v1_SharedClass_fields, &shared)) return "";
  return std::string(shared.source_node, strnlen(shared.source_node, sizeof shared.source_node));
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
         const auto body = object_body(c, R"({"label": "mug", "examples": 5})");
         const std::string label = string_field(body, "label", true);
         if (!body.contains("examples") || !body["examples"].is_number_integer())
           throw ApiError(400, "invalid_body", "body field 'examples': required, an integer");
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
  // The gateway passes the signed share on as it is: each node checks the signature with its
  // package key, so a gateway (or anyone on the way) cannot make a node accept a class. The node
  // that learned the class (the share's source_node) is left out: it holds the label already.
  router_.add(
      {.method = Method::kPost,
       .pattern = "/api/v1/enrollment/share",
       .role = Role::kOperator,
       .tag = "nodes",
       .summary = "Send a signed shared class (tinyedge enroll share) to every node of a group but the one "
                  "that learned it (`skipped`); each node's answer (accepted, or refused with its reason) "
                  "appears in its GET .../enrollment",
       .body_schema =
           R"({"type":"object","required":["group","shared_class","signature"],"properties":{"group":{"type":"string"},"shared_class":{"type":"string"},"signature":{"type":"string"}}})",
       .body_media_type = "application/json",
       .handler = [this](const RouteContext& c) {
         if (!services_.send_enroll_share)
           throw ApiError(503, "unavailable", "this gateway cannot send commands to nodes");
         const auto body = object_body(c, R"({"group": "kitchen", "shared_class": "0a03...", "signature": "3045..."})");
         const std::string group = string_field(body, "group", false);
         tinyedge_v1_EnrollShare share = tinyedge_v1_EnrollShare_init_zero;
         share.shared_class.size =
             unhex(body, "shared_class", share.shared_class.bytes, sizeof share.shared_class.bytes);
         share.signature.size = unhex(body, "signature", share.signature.bytes, sizeof share.signature.bytes);
         const std::string source = share_source(share);
         std::vector<std::string> members;
         bool source_in_group = false;
         {
           auto q = queries_.borrow();
           for (const auto& n : q->nodes()) {
             if (std::find(n.groups.begin(), n.groups.end(), group) == n.groups.end()) continue;
             if (n.node_id == source)
               source_in_group = true;
             else
               members.push_back(n.node_id);
           }
         }
         if (members.empty())
           throw ApiError(
               404, "not_found",
               "no node in group '" + group + "'" + (source_in_group ? " but " + source + ", which learned it" : ""));
         const int64_t sent_ms =
             std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                 .count();
         nlohmann::json sent = nlohmann::json::array(), unreachable = nlohmann::json::array();
         for (const auto& node : members)
           (services_.send_enroll_share(node, share) ? sent : unreachable).push_back(node);
         return json_response(202, nlohmann::json{{"group", group},
                                                  {"sent", sent},
                                                  {"unreachable", unreachable},
                                                  {"skipped", source_in_group ? nlohmann::json::array({source})
                                                                              : nlohmann::json::array()},
                                                  {"sent_ms", sent_ms}});
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
