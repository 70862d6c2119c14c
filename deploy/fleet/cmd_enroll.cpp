// `tinyedge enroll start|list|remove|share`: few-shot enrollment on a node through the gateway's
// API (operator token for changes). start, remove and share wait for the nodes' answers and print
// them; a refusal prints the node's reason and exits 1. share signs the class a node reported with
// the fleet's package key (the OTA signature code), so nodes accept it only from the operator.
#include <pb_decode.h>
#include <pb_encode.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "deploy/command_registry.h"
#include "deploy/fleet/api_client.h"
#include "deploy/fleet/render.h"
#include "ota/signing_key.h"
#include "tinyedge.pb.h"

namespace tinyedge::fleet {
namespace {

using deploy::CommandError;
using nlohmann::json;

struct EnrollArgs {
  std::string gateway, token, format = "table";
  std::string node, label, group, key;
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

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t b : bytes) hex += {kHex[b >> 4], kHex[b & 15]};
  return hex;
}

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// The class as node `a.node` reported it, with this share's sequence (milliseconds since the
// epoch: above every earlier share from this clock) and the key's id; signed over its exact bytes.
json signed_share(const EnrollArgs& a, const json& reported) {
  std::ifstream in(a.key);
  if (!in) throw CommandError("cannot read signing key " + a.key);
  std::stringstream pem;
  pem << in.rdbuf();
  ota::SigningKey key = [&] {
    try {
      return ota::SigningKey::from_pem(pem.str());
    } catch (const ota::KeyError& e) {
      throw CommandError("signing key " + a.key + ": " + e.what());
    }
  }();
  const std::vector<uint8_t> bytes = from_hex(reported.value("shared_class", ""));
  tinyedge_v1_SharedClass shared = tinyedge_v1_SharedClass_init_zero;
  pb_istream_t is = pb_istream_from_buffer(bytes.data(), bytes.size());
  if (bytes.empty() || !pb_decode(&is, tinyedge_v1_SharedClass_fields, &shared))
    throw CommandError("the gateway holds no readable report of '" + a.label + "' from node " + a.node);
  shared.sequence = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  const ota::KeyId id = key.key_id();
  std::copy(id.begin(), id.end(), shared.key_id.bytes);
  shared.key_id.size = id.size();
  std::snprintf(shared.source_node, sizeof shared.source_node, "%s", a.node.c_str());
  uint8_t out[tinyedge_v1_SharedClass_size];
  pb_ostream_t os = pb_ostream_from_buffer(out, sizeof out);
  if (!pb_encode(&os, tinyedge_v1_SharedClass_fields, &shared)) throw CommandError("cannot encode the shared class");
  const std::span<const uint8_t> signed_bytes(out, os.bytes_written);
  const std::vector<uint8_t> signature = key.sign(ota::sha256(signed_bytes));
  return {{"shared_class", to_hex(signed_bytes)}, {"signature", to_hex(signature)}};
}

void run_share(const EnrollArgs& a) {
  auto api = client(a);
  const json state = call(api, "GET", enrollment_path(a.node) + "?limit=1");
  json reported;
  for (const auto& l : state["labels"])
    if (l.value("label", "") == a.label) reported = l;
  if (reported.is_null())
    throw CommandError("node " + a.node + " has no enrolled class '" + a.label + "' (tinyedge enroll list --node " +
                       a.node + ")");
  if (reported.value("shared_class", "").empty())
    throw CommandError("node " + a.node + " has not reported class '" + a.label +
                       "' yet (enrolled before sharing existed?): nothing to share");
  json body = signed_share(a, reported);
  body["group"] = a.group;
  const json sent = call(api, "POST", "/api/v1/enrollment/share", body.dump());
  const int64_t sent_ms = sent.value("sent_ms", int64_t{0});
  bool all_ok = sent["unreachable"].empty();
  for (const auto& n : sent.value("skipped", json::array()))
    std::cout << "(" << n.get<std::string>() << " learned '" << a.label << "': not sent to it)\n";
  for (const auto& n : sent["unreachable"])
    std::cout << "node " << n.get<std::string>() << ": not reachable now, nothing sent\n";
  // Each node answers for itself: accepted, or refused with its reason (as the gateway logs it).
  std::map<std::string, bool> pending;
  for (const auto& n : sent["sent"]) pending[n.get<std::string>()] = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(int64_t(a.wait_s * 1000));
  while (a.wait_s > 0 && !pending.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (auto it = pending.begin(); it != pending.end();) {
      const json log = call(api, "GET", enrollment_path(it->first) + "?limit=20")["log"];
      const auto answer = std::find_if(log.begin(), log.end(), [&](const json& e) {
        return e.value("received_ms", int64_t{0}) >= sent_ms && e.value("action", "") == "share";
      });
      if (answer == log.end()) {
        ++it;
        continue;
      }
      if (answer->value("ok", false)) {
        std::cout << "node " << it->first << ": accepted '" << a.label << "' from " << a.node << "\n";
      } else {
        all_ok = false;
        std::cout << "node " << it->first << ": refused '" << a.label << "': " << answer->value("result", "") << "\n";
      }
      it = pending.erase(it);
    }
  }
  for (const auto& [node, _] : pending) {
    all_ok = a.wait_s <= 0 && all_ok;
    std::cout << "node " << node << ": " << (a.wait_s > 0 ? "no answer within the wait" : "sent") << "\n";
  }
  if (!all_ok) throw CommandError("share of '" + a.label + "' to group " + a.group + " not accepted everywhere");
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
    // Classes the node dropped by itself since (shared ones, when its model changed), then the
    // last refusal of a command.
    std::vector<std::string> held;
    for (const auto& l : state["labels"]) held.push_back(l.value("label", ""));
    for (const auto& entry : state["log"]) {
      const std::string label = entry.value("label", "");
      if (entry.value("action", "") != "dropped" || std::find(held.begin(), held.end(), label) != held.end()) continue;
      std::cout << "dropped: '" << label << "': " << entry.value("result", "") << " ("
                << iso_time(entry.value("received_ms", int64_t{0})) << ")\n";
    }
    for (const auto& entry : state["log"]) {
      if (entry.value("ok", false) || entry.value("action", "") == "dropped") continue;
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

  auto share_args = std::make_shared<EnrollArgs>();
  auto* share = enroll->add_subcommand("share", "Send a class a node learned to every node of a group, signed");
  share->add_option("--gateway", share_args->gateway,
                    "Gateway URL (default: $TINYEDGE_GATEWAY or http://127.0.0.1:8080)");
  share->add_option("--token", share_args->token, "Bearer token (default: $TINYEDGE_TOKEN)");
  share->add_option("--from", share_args->node, "The node that learned the class")->required();
  share->add_option("--label", share_args->label, "The class")->required();
  share->add_option("--group", share_args->group, "The nodes to teach it")->required();
  share->add_option("--key", share_args->key, "The fleet's package signing key (PEM)")
      ->required()
      ->check(CLI::ExistingFile);
  share->add_option("--wait", share_args->wait_s, "Seconds to wait for the nodes' answers (0: do not wait)")
      ->check(CLI::Range(0.0, 600.0));
  share->callback([share_args] { run_share(*share_args); });
}

const deploy::CommandRegistration kEnroll{"62-enroll", &install};

}  // namespace
}  // namespace tinyedge::fleet
