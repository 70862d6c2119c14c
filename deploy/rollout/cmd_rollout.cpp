// `tinyedge rollout start|status|pause|resume|abort|cancel-node`: fleet rollouts through the gateway's REST API.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "deploy/command_registry.h"
#include "deploy/fleet/api_client.h"
#include "deploy/rollout/rollout_render.h"
#include "ota/package.h"

namespace tinyedge::deploy {
namespace {

using json = nlohmann::json;

struct Connection {
  std::string gateway, token;
};

struct StartOptions {
  std::string package, target = "all", canary = "1", waves = "100", max_failures = "0", soak = "0s";
  std::string node_timeout = "10m", deadline = "24h";
  uint32_t max_concurrent = 50;
  bool gate_off = false;
  std::optional<double> gate_jsd, gate_score_drop, gate_latency, gate_errors, gate_disagreement;
  std::optional<uint32_t> gate_min_samples;
};

fleet::ApiClient client(const Connection& c) {
  try {
    return fleet::ApiClient(fleet::ApiClient::gateway_from_env(c.gateway), fleet::ApiClient::token_from_env(c.token));
  } catch (const fleet::ApiError& e) {
    throw CommandError(e.what());
  }
}

// Sends, and turns any failure (network or non-2xx) into a CommandError with the server's words.
json call(fleet::ApiClient& api, const std::string& method, const std::string& target, const std::string& body = "",
          const std::string& type = "application/json") {
  try {
    auto response = api.request(method, target, body, type);
    fleet::ApiClient::check(response);
    return response.body.empty() ? json::object() : json::parse(response.body);
  } catch (const fleet::ApiError& e) {
    throw CommandError(e.what());
  } catch (const json::exception& e) {
    throw CommandError(std::string("gateway sent an unreadable answer: ") + e.what());
  }
}

std::string id_path(int64_t id) { return "/api/v1/rollouts/" + std::to_string(id); }

void start(const Connection& c, const StartOptions& o) {
  ota::Package package;
  ota::Manifest manifest{};
  try {
    package = ota::read_package_file(o.package);
    manifest = ota::manifest_of(package);
  } catch (const ota::PackageError& e) {
    throw CommandError(o.package + ": " + e.what());
  }
  auto bytes = ota::encode_package(package);
  fleet::ApiClient api = client(c);
  // Register the package (the gateway verifies it against the fleet key); already there is fine.
  try {
    auto response = api.request("POST", "/api/v1/models", std::string(bytes.begin(), bytes.end()),
                                "application/octet-stream");
    if (response.status != 409) fleet::ApiClient::check(response);
  } catch (const fleet::ApiError& e) {
    throw CommandError(std::string("upload of ") + o.package + " refused: " + e.what());
  }
  json request = {{"model_id", manifest.model_id}, {"version", manifest.version},  {"target", o.target},
                  {"canary", o.canary},            {"waves", o.waves},              {"max_failures", o.max_failures},
                  {"soak", o.soak},                {"max_concurrent", o.max_concurrent},
                  {"node_timeout", o.node_timeout}, {"deadline", o.deadline}};
  json gate = json::object();
  if (o.gate_off) gate["enabled"] = false;
  if (o.gate_jsd) gate["max_label_jsd"] = *o.gate_jsd;
  if (o.gate_score_drop) gate["max_mean_score_drop"] = *o.gate_score_drop;
  if (o.gate_latency) gate["max_p95_latency_increase"] = *o.gate_latency;
  if (o.gate_errors) gate["max_error_rate_increase"] = *o.gate_errors;
  if (o.gate_disagreement) gate["max_disagreement"] = *o.gate_disagreement;
  if (o.gate_min_samples) gate["min_samples"] = *o.gate_min_samples;
  if (!gate.empty()) request["gate"] = gate;
  json rollout = call(api, "POST", "/api/v1/rollouts", request.dump());
  std::cout << "rollout " << rollout.value("id", 0) << " started: model " << manifest.model_id << " v"
            << manifest.version << " to " << o.target << " (" << rollout.value("target_size", 0u) << " nodes)\n";
}

bool finished(const json& r) {
  std::string s = r.value("state", "");
  return s == "completed" || s == "aborted" || s == "rolled_back" || s == "paused";
}

void status(const Connection& c, std::optional<int64_t> id, bool watch, bool nodes, double interval_s) {
  fleet::ApiClient api = client(c);
  if (!id) {
    json list = call(api, "GET", "/api/v1/rollouts");
    std::cout << render_rollout_list(list.is_array() ? list : list.value("rollouts", json::array()));
    return;
  }
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  while (true) {
    json r = call(api, "GET", id_path(*id));
    if (!nodes) r.erase("nodes");
    if (watch && tty) std::cout << "\x1b[H\x1b[2J";
    std::cout << render_rollout(r) << std::flush;
    if (!watch || finished(r)) return;
    if (!tty) std::cout << "--\n";
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(interval_s * 1000)));
  }
}

void command(const Connection& c, int64_t id, const std::string& verb, bool rollback = false) {
  fleet::ApiClient api = client(c);
  json body = json::object();
  if (verb == "abort") body["rollback"] = rollback;
  json r = call(api, "POST", id_path(id) + "/" + verb, body.dump());
  std::cout << "rollout " << id << ": " << r.value("state", "?");
  std::string reason = r.value("reason", "");
  if (!reason.empty()) std::cout << " (" << reason << ")";
  std::cout << "\n";
}

void cancel_node(const Connection& c, int64_t id, const std::string& node) {
  fleet::ApiClient api = client(c);
  json r = call(api, "POST", id_path(id) + "/nodes/" + node + "/cancel", "{}");
  std::cout << "rollout " << id << ": node " << node << " cancelled, keeps the model it runs; rollout "
            << r.value("state", "?");
  std::string reason = r.value("reason", "");
  if (!reason.empty()) std::cout << " (" << reason << ")";
  std::cout << "\n";
}

void install(CLI::App& app) {
  auto* rollout = app.add_subcommand("rollout", "Roll a signed model out to the fleet: canary, waves, gate, rollback");
  rollout->require_subcommand(1);
  auto connection = std::make_shared<Connection>();
  rollout->add_option("--gateway", connection->gateway, "Gateway API URL (default $TINYEDGE_GATEWAY or http://127.0.0.1:8080)");
  rollout->add_option("--token", connection->token, "API bearer token (default $TINYEDGE_TOKEN)");

  auto so = std::make_shared<StartOptions>();
  auto* start_cmd = rollout->add_subcommand("start", "Upload a package (if needed) and start rolling it out");
  start_cmd->add_option("--package", so->package, "Signed package (.tep)")->required()->check(CLI::ExistingFile);
  start_cmd->add_option("--target", so->target, "all | group:<name> | nodes:<id>,<id>...")->capture_default_str();
  start_cmd->add_option("--canary", so->canary, "Canary size: nodes (5) or percent (5%)")->capture_default_str();
  start_cmd->add_option("--waves", so->waves, "Cumulative wave percentages ending at 100, e.g. 25,50,100")
      ->capture_default_str();
  start_cmd->add_option("--max-failures", so->max_failures,
                        "Pause when failures exceed this count, or this percent of the nodes offered")
      ->capture_default_str();
  start_cmd->add_option("--soak", so->soak, "Wait after each phase (the quality gate judges here), e.g. 30s")
      ->capture_default_str();
  start_cmd->add_option("--max-concurrent", so->max_concurrent, "Nodes updating at once")->capture_default_str();
  start_cmd->add_option("--node-timeout", so->node_timeout, "A node without progress this long has timed out")
      ->capture_default_str();
  start_cmd->add_option("--deadline", so->deadline, "Offline nodes are updated when they return until then")
      ->capture_default_str();
  start_cmd->add_flag("--no-gate", so->gate_off, "Switch the model-quality gate off");
  start_cmd->add_option("--gate-max-jsd", so->gate_jsd, "Gate: max label-distribution JSD (bits) beyond the sampling noise of the cohorts' sizes");
  start_cmd->add_option("--gate-max-score-drop", so->gate_score_drop, "Gate: max drop of mean top-1 score (0..1)");
  start_cmd->add_option("--gate-max-latency-increase", so->gate_latency, "Gate: max p95 latency increase (0.5 = +50%)");
  start_cmd->add_option("--gate-max-error-increase", so->gate_errors, "Gate: max error-rate increase");
  start_cmd->add_option("--gate-max-disagreement", so->gate_disagreement,
                        "Gate: max share of replayed samples the models disagree on");
  start_cmd->add_option("--gate-min-samples", so->gate_min_samples, "Gate: results per cohort before judging");
  start_cmd->callback([connection, so] { start(*connection, *so); });
  start_cmd->fallthrough();  // --gateway/--token may come after the subcommand

  auto id = std::make_shared<int64_t>(0);
  auto watch = std::make_shared<bool>(false);
  auto nodes = std::make_shared<bool>(false);
  auto interval = std::make_shared<double>(1.0);
  auto* status_cmd = rollout->add_subcommand("status", "List rollouts, or show one with progress per wave");
  auto* id_opt = status_cmd->add_option("id", *id, "Rollout id");
  status_cmd->add_flag("--watch,-w", *watch, "Redraw until the rollout stops");
  status_cmd->add_flag("--nodes", *nodes, "List nodes that are not pending or activated");
  status_cmd->add_option("--interval", *interval, "Seconds between redraws")->check(CLI::Range(0.1, 3600.0));
  status_cmd->fallthrough();
  status_cmd->callback([=] {
    if (*watch && id_opt->count() == 0) throw CommandError("rollout status --watch needs a rollout id");
    status(*connection, id_opt->count() ? std::optional<int64_t>(*id) : std::nullopt, *watch, *nodes, *interval);
  });

  for (const char* verb : {"pause", "resume"}) {
    auto* cmd = rollout->add_subcommand(verb, std::string(verb == std::string("pause") ? "Pause" : "Resume") + " a rollout");
    auto verb_id = std::make_shared<int64_t>(0);
    cmd->add_option("id", *verb_id, "Rollout id")->required();
    std::string v = verb;
    cmd->fallthrough();
    cmd->callback([connection, verb_id, v] { command(*connection, *verb_id, v); });
  }
  auto abort_id = std::make_shared<int64_t>(0);
  auto rollback = std::make_shared<bool>(false);
  auto* abort_cmd = rollout->add_subcommand("abort", "Stop a rollout; --rollback returns updated nodes to the previous version");
  abort_cmd->add_option("id", *abort_id, "Rollout id")->required();
  abort_cmd->add_flag("--rollback", *rollback, "Offer the previous package, with a signed rollback grant");
  abort_cmd->fallthrough();
  abort_cmd->callback([connection, abort_id, rollback] { command(*connection, *abort_id, "abort", *rollback); });

  auto cancel_id = std::make_shared<int64_t>(0);
  auto cancel_node_id = std::make_shared<std::string>();
  auto* cancel_cmd = rollout->add_subcommand(
      "cancel-node",
      "Take one node out of a rollout: it stops downloading and keeps its model (refused once activated)");
  cancel_cmd->add_option("id", *cancel_id, "Rollout id")->required();
  cancel_cmd->add_option("node", *cancel_node_id, "Node id")->required();
  cancel_cmd->fallthrough();
  cancel_cmd->callback(
      [connection, cancel_id, cancel_node_id] { cancel_node(*connection, *cancel_id, *cancel_node_id); });
}

const CommandRegistration kReg{"70-rollout", &install};

}  // namespace
}  // namespace tinyedge::deploy
