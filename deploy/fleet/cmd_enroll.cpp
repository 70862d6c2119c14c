// `tinyedge enroll start|list|remove`: few-shot enrollment on a node through the gateway's API
// (operator token for changes). start and remove wait for the node's answer and print it; a
// refusal prints the node's reason and exits 1.
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "deploy/command_registry.h"
#include "deploy/fleet/api_client.h"
#include "deploy/fleet/render.h"

namespace tinyedge::fleet {
namespace {

using deploy::CommandError;
using nlohmann::json;

struct EnrollArgs {
  std::string gateway, token, format = "table";
  std::string node, label;
  int examples = 5;
  double wait_s = 30;
};

void add_common(CLI::App* cmd, EnrollArgs& a) {
  cmd->add_option("--gateway", a.gateway, "Gateway URL (default: $TINYEDGE_GATEWAY or http://127.0.0.1:8080)");
  cmd->add_option("--token", a.token, "Bearer token (default: $TINYEDGE_TOKEN)");
  cmd->add_option("--node", a.node, "The node")->required();
}

ApiClient client(const EnrollArgs& a) {
  try {
    return ApiClient(ApiClient::gateway_from_env(a.gateway), ApiClient::token_from_env(a.token));
  } catch (const ApiError& e) {
    throw CommandError(e.what());
  }
}

json call(ApiClient& api, const std::string& method, const std::string& target, const std::string& body = "") {
  try {
    const HttpResponse response = api.request(method, target, body);
    return json::parse(ApiClient::check(response).body);
  } catch (const ApiError& e) {
    throw CommandError(e.what());
  } catch (const json::exception& e) {
    throw CommandError("gateway sent a malformed answer to " + target + ": " + e.what());
  }
}

std::string enrollment_path(const std::string& node) {
  return "/api/v1/nodes/" + node + "/enrollment";  // node ids hold no '/', '?' or '%' (protocol/topics.h)
}

std::string distance_text(const json& entry) {
  if (entry.value("nearest_label", "").empty()) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", entry.value("distance", 0.0));
  return std::string(", distance ") + buf + " to '" + entry.value("nearest_label", "") + "'";
}

// Polls the node's enrollment log for its answer to the command sent at `sent_ms`.
void await_answer(ApiClient& api, const EnrollArgs& a, const std::string& action, int64_t sent_ms) {
  if (a.wait_s <= 0) {
    std::cout << "sent " << action << " '" << a.label << "' to " << a.node << "\n";
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(int64_t(a.wait_s * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const json state = call(api, "GET", enrollment_path(a.node) + "?limit=20");
    for (const auto& entry : state["log"]) {
      if (entry.value("received_ms", int64_t{0}) < sent_ms || entry.value("action", "") != action ||
          entry.value("label", "") != a.label) {
        continue;
      }
      if (!entry.value("ok", false)) {
        throw CommandError("node " + a.node + " refused to " + action + " '" + a.label +
                           "': " + entry.value("result", "unknown reason") + distance_text(entry));
      }
      std::string enrolled;
      for (const auto& l : state["labels"]) enrolled += (enrolled.empty() ? "" : ", ") + l.value("label", "");
      if (action == "start") {
        std::cout << "node " << a.node << " enrolled '" << a.label << "' from " << entry.value("examples_used", 0)
                  << " examples" << distance_text(entry) << "\n";
      } else {
        std::cout << "node " << a.node << " removed '" << a.label << "'\n";
      }
      std::cout << "enrolled now: " << (enrolled.empty() ? "(none)" : enrolled) << "\n";
      return;
    }
  }
  throw CommandError("no answer from node " + a.node + " within " + std::to_string(int(a.wait_s)) +
                     " s (the command was sent; `tinyedge enroll list` shows it once the node answers)");
}

void run_start(const EnrollArgs& a) {
  auto api = client(a);
  const json sent =
      call(api, "POST", enrollment_path(a.node), json{{"label", a.label}, {"examples", a.examples}}.dump());
  await_answer(api, a, "start", sent.value("sent_ms", int64_t{0}));
}

void run_remove(const EnrollArgs& a) {
  auto api = client(a);
  const json sent = call(api, "DELETE", enrollment_path(a.node) + ApiClient::query({{"label", a.label}}));
  await_answer(api, a, "remove", sent.value("sent_ms", int64_t{0}));
}

void run_list(const EnrollArgs& a) {
  auto api = client(a);
  const json state = call(api, "GET", enrollment_path(a.node) + "?limit=10");
  const Format f = *format_from_string(a.format);
  if (f == Format::kJson) {
    std::cout << state.dump(2) << "\n";
    return;
  }
  std::vector<Row> rows;
  for (const auto& l : state["labels"]) {
    char distance[32];
    std::snprintf(distance, sizeof distance, "%.2f", l.value("distance", 0.0));
    rows.push_back({l.value("label", ""), std::to_string(l.value("position", 0)),
                    std::to_string(l.value("examples_used", 0)), distance, l.value("nearest_label", ""),
                    iso_time(l.value("enrolled_ms", int64_t{0}))});
  }
  std::cout << render_rows({"LABEL", "POSITION", "EXAMPLES", "DISTANCE", "NEAREST", "ENROLLED"}, rows, f);
  if (f == Format::kTable) {
    for (const auto& entry : state["log"]) {
      if (entry.value("ok", false)) continue;
      std::cout << "last refusal: " << entry.value("action", "") << " '" << entry.value("label", "")
                << "': " << entry.value("result", "") << " (" << iso_time(entry.value("received_ms", int64_t{0}))
                << ")\n";
      break;
    }
  }
}

void install(CLI::App& app) {
  auto* enroll = app.add_subcommand("enroll", "Teach a node a new class from a few examples, list or remove them");
  enroll->require_subcommand(1);

  auto start_args = std::make_shared<EnrollArgs>();
  auto* start = enroll->add_subcommand("start", "Have the node capture N examples and enroll them as a new class");
  add_common(start, *start_args);
  start->add_option("--label", start_args->label, "The new class's label (1-16 characters, no spaces)")->required();
  start->add_option("--examples", start_args->examples, "Examples to capture (default 5)")->check(CLI::Range(1, 32));
  start->add_option("--wait", start_args->wait_s, "Seconds to wait for the node's answer (0: do not wait)")
      ->check(CLI::Range(0.0, 600.0));
  start->callback([start_args] { run_start(*start_args); });

  auto list_args = std::make_shared<EnrollArgs>();
  auto* list = enroll->add_subcommand("list", "A node's enrolled classes, as its last answer gave them");
  add_common(list, *list_args);
  list->add_option("--format", list_args->format, "table, csv or json")->check(CLI::IsMember({"table", "csv", "json"}));
  list->callback([list_args] { run_list(*list_args); });

  auto remove_args = std::make_shared<EnrollArgs>();
  auto* remove = enroll->add_subcommand("remove", "Have the node forget an enrolled class");
  add_common(remove, *remove_args);
  remove->add_option("--label", remove_args->label, "The enrolled class")->required();
  remove->add_option("--wait", remove_args->wait_s, "Seconds to wait for the node's answer (0: do not wait)")
      ->check(CLI::Range(0.0, 600.0));
  remove->callback([remove_args] { run_remove(*remove_args); });
}

const deploy::CommandRegistration kEnroll{"62-enroll", &install};

}  // namespace
}  // namespace tinyedge::fleet
