// `tinyedge nodes`, `tinyedge models`, `tinyedge logs`, `tinyedge alerts`: the fleet as the gateway's REST API
// sees it.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "deploy/command_registry.h"
#include "deploy/fleet/api_client.h"
#include "deploy/fleet/render.h"

namespace tinyedge::fleet {
namespace {

using deploy::CommandError;
using nlohmann::json;

struct Connection {
  std::string gateway, token, format = "table";
};

void add_connection_options(CLI::App* cmd, Connection& c) {
  cmd->add_option("--gateway", c.gateway, "Gateway URL (default: $TINYEDGE_GATEWAY or http://127.0.0.1:8080)");
  cmd->add_option("--token", c.token, "Bearer token (default: $TINYEDGE_TOKEN)");
  cmd->add_option("--format", c.format, "table, csv or json")->check(CLI::IsMember({"table", "csv", "json"}));
}

ApiClient client(const Connection& c) {
  try {
    return ApiClient(ApiClient::gateway_from_env(c.gateway), ApiClient::token_from_env(c.token));
  } catch (const ApiError& e) {
    throw CommandError(e.what());
  }
}

json call_json(ApiClient& api, const std::string& method, const std::string& target) {
  try {
    const HttpResponse response = api.request(method, target);  // check() returns a reference into it
    return json::parse(ApiClient::check(response).body);
  } catch (const ApiError& e) {
    throw CommandError(e.what());
  } catch (const json::exception& e) {
    throw CommandError("gateway sent a malformed answer to " + target + ": " + e.what());
  }
}

json get_json(ApiClient& api, const std::string& target) { return call_json(api, "GET", target); }

std::string str(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump();
}

// --- nodes ---------------------------------------------------------------------------------

struct NodesArgs {
  Connection conn;
  std::string group, status;
};

void run_nodes(const NodesArgs& a) {
  auto api = client(a.conn);
  std::vector<std::pair<std::string, std::string>> q;
  if (!a.group.empty()) q.emplace_back("group", a.group);
  if (!a.status.empty()) q.emplace_back("status", a.status);
  json j = get_json(api, "/api/v1/nodes" + ApiClient::query(q));
  const Format f = *format_from_string(a.conn.format);
  if (f == Format::kJson) {
    std::cout << j["nodes"].dump(2) << "\n";
    return;
  }
  std::vector<Row> rows;
  for (const auto& n : j["nodes"]) {
    std::string groups;
    for (const auto& g : n["groups"]) groups += (groups.empty() ? "" : ",") + g.get<std::string>();
    const int64_t age = n["last_seen_age_ms"].get<int64_t>() / 1000;
    rows.push_back({str(n["id"]), str(n["status"]),
                    model_text(n.value("model_id", 0u), n.value("model_version", 0u), n.value("model_name", "")),
                    groups.empty() ? "-" : groups,
                    str(n["last_seen"]), std::to_string(age) + "s ago"});
  }
  std::cout << render_rows({"NODE", "STATUS", "MODEL", "GROUPS", "LAST SEEN", "AGE"}, rows, f);
  if (f == Format::kTable) std::cout << j["count"] << " nodes, " << j["online"] << " online\n";
}

// --- models --------------------------------------------------------------------------------

void run_models(const Connection& conn) {
  auto api = client(conn);
  json j = get_json(api, "/api/v1/models");
  const Format f = *format_from_string(conn.format);
  if (f == Format::kJson) {
    std::cout << j["models"].dump(2) << "\n";
    return;
  }
  std::vector<Row> rows;
  for (const auto& m : j["models"]) {
    // Each delta as its base and its bytes on the wire: "from v1 (3120 B)".
    std::string deltas;
    for (const auto& d : m.value("deltas", json::array())) {
      const std::string base = d.value("base_version", json()).is_null()
                                   ? str(d.value("base_sha256", json())).substr(0, 8)
                                   : "v" + str(d["base_version"]);
      deltas += (deltas.empty() ? "" : ", ") + ("from " + base + " (" + str(d.value("wire_size", json())) + " B)");
    }
    rows.push_back({str(m.value("id", json())), str(m.value("model_id", json())), str(m.value("version", json())),
                    str(m.value("name", json())), str(m.value("payload_size", json())),
                    str(m.value("payload_sha256", json())).substr(0, 16), deltas.empty() ? "-" : deltas});
  }
  std::cout << render_rows({"REF", "MODEL", "VERSION", "NAME", "BYTES", "SHA256", "DELTAS"}, rows, f);
}

// --- logs ----------------------------------------------------------------------------------

struct LogsArgs {
  Connection conn;
  std::string node, group, since, until, by;
  int64_t label = -1, min_score = -1;
  int limit = 50;
  bool follow = false;
  double interval_s = 1.0;
  int max_polls = 0;  // hidden: bounds --follow for tests
};

std::vector<std::pair<std::string, std::string>> filters(const LogsArgs& a, int64_t now) {
  std::vector<std::pair<std::string, std::string>> q;
  if (!a.node.empty()) q.emplace_back("node", a.node);
  if (!a.group.empty()) q.emplace_back("group", a.group);
  if (a.label >= 0) q.emplace_back("label", std::to_string(a.label));
  if (a.min_score >= 0) q.emplace_back("min_score", std::to_string(a.min_score));
  for (const auto& [name, text] : {std::pair{"since", a.since}, std::pair{"until", a.until}}) {
    if (text.empty()) continue;
    auto v = time_argument(text, now);
    if (!v) throw CommandError(std::string("--") + name + ": '" + text + "' is not 15m/2h/7d ago, unix ms or RFC 3339");
    q.emplace_back(name, *v);
  }
  return q;
}

// The label by its name from the model (the API names it) and the score as a probability.
std::string name_of(const json& object) {
  const auto it = object.find("label_name");
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Row event_row(const json& e) {
  return {str(e["id"]),
          str(e["at"]),
          str(e["node"]),
          str(e["model_id"]) + " v" + str(e["model_version"]),
          label_text(e.value("label", 0u), name_of(e)),
          probability_text(e.value("probability", e.value("score", 0u) / 255.0)),
          str(e["latency_us"])};
}
const Row kEventHeader = {"ID", "TIME", "NODE", "MODEL", "LABEL", "PROBABILITY", "LATENCY_US"};

void print_events(const std::vector<json>& events, Format f, bool header) {
  if (f == Format::kJson) {
    for (const auto& e : events) std::cout << e.dump() << "\n";  // one object per line: follows stream well
    return;
  }
  std::vector<Row> rows;
  for (const auto& e : events) rows.push_back(event_row(e));
  std::string text = render_rows(kEventHeader, rows, f);
  if (!header) text = text.substr(text.find('\n') + 1);
  std::cout << text << std::flush;
}

void run_aggregate(const LogsArgs& a, ApiClient& api, Format f) {
  const int64_t now = now_ms();
  auto q = filters(a, now);
  // The aggregate is over [since, until): default the last 24 h.
  int64_t from = now - 86'400'000, to = now;
  std::vector<std::pair<std::string, std::string>> stats_q;
  for (const auto& [k, v] : q) {
    if (k == "since") from = std::all_of(v.begin(), v.end(), ::isdigit) ? std::stoll(v) : from;
    else if (k == "until") to = std::all_of(v.begin(), v.end(), ::isdigit) ? std::stoll(v) : to;
    else if (k == "node" || k == "group") stats_q.emplace_back(k, v);
    else throw CommandError("--by " + a.by + " aggregates counts; drop --" + (k == "min_score" ? std::string("min-score") : k));
  }
  if (to <= from) throw CommandError("--until must be later than --since");
  const std::string window = std::to_string(std::max<int64_t>(1, (to - from + 999) / 1000)) + "s";
  auto fetch_totals = [&](std::vector<std::pair<std::string, std::string>> extra) {
    extra.emplace_back("window", window);
    extra.emplace_back("until", std::to_string(to));
    extra.emplace_back("bucket", window);
    return get_json(api, "/api/v1/stats/labels" + ApiClient::query(extra))["totals"];
  };
  std::vector<Row> rows;
  json out = json::array();
  if (a.by == "label") {
    json totals = fetch_totals(stats_q);
    uint64_t sum = 0;
    for (const auto& t : totals) sum += t["count"].get<uint64_t>();
    for (const auto& t : totals) {
      const uint64_t n = t["count"];
      char share[16];
      std::snprintf(share, sizeof share, "%.1f%%", sum ? 100.0 * static_cast<double>(n) / static_cast<double>(sum) : 0.0);
      rows.push_back({label_text(t.value("label", 0u), name_of(t)), std::to_string(n), share});
      out.push_back({{"label", t["label"]}, {"label_name", t.value("label_name", json())}, {"count", n}});
    }
    if (f == Format::kJson) std::cout << out.dump(2) << "\n";
    else std::cout << render_rows({"LABEL", "EVENTS", "SHARE"}, rows, f);
    return;
  }
  // --by node: one stats call per node of the selection.
  std::vector<std::pair<std::string, std::string>> nq;
  for (const auto& [k, v] : stats_q)
    if (k == "group") nq.emplace_back(k, v);
  json nodes = get_json(api, "/api/v1/nodes" + ApiClient::query(nq))["nodes"];
  for (const auto& n : nodes) {
    const std::string id = n["id"];
    if (!a.node.empty() && id != a.node) continue;
    uint64_t count = 0;
    std::string top = "-";
    uint64_t top_n = 0;
    for (const auto& t : fetch_totals({{"node", id}})) {
      count += t["count"].get<uint64_t>();
      if (t["count"].get<uint64_t>() > top_n) top_n = t["count"], top = label_text(t.value("label", 0u), name_of(t));
    }
    rows.push_back({id, str(n["status"]), std::to_string(count), top});
    out.push_back({{"node", id}, {"status", n["status"]}, {"count", count}, {"top_label", top}});
  }
  if (f == Format::kJson) std::cout << out.dump(2) << "\n";
  else std::cout << render_rows({"NODE", "STATUS", "EVENTS", "TOP LABEL"}, rows, f);
}

void run_logs(const LogsArgs& a) {
  auto api = client(a.conn);
  const Format f = *format_from_string(a.conn.format);
  if (!a.by.empty()) {
    if (a.follow) throw CommandError("--follow and --by cannot be combined");
    return run_aggregate(a, api, f);
  }
  auto q = filters(a, now_ms());
  q.emplace_back("limit", std::to_string(a.limit));
  json page = get_json(api, "/api/v1/events" + ApiClient::query(q));
  std::vector<json> events(page["events"].begin(), page["events"].end());
  int64_t newest = events.empty() ? 0 : events.front()["id"].get<int64_t>();
  if (!a.follow) {
    if (f == Format::kJson) {
      std::cout << page["events"].dump(2) << "\n";
      return;
    }
    print_events(events, f, true);
    if (f == Format::kTable && !page["next_cursor"].is_null())
      std::cout << "(more: --limit, or narrow with --since/--node)\n";
    return;
  }
  // Follow: oldest first, then poll for ids above the newest seen.
  std::reverse(events.begin(), events.end());
  print_events(events, f, true);
  auto base = filters(a, now_ms());
  for (const auto& [k, v] : base)
    if (k == "until") throw CommandError("--follow and --until cannot be combined");
  for (int polls = 0; a.max_polls == 0 || polls < a.max_polls; ++polls) {
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(a.interval_s * 1000)));
    std::vector<json> fresh;
    std::string cursor;
    // Page back until we reach what was already printed (a burst may exceed one page).
    for (;;) {
      auto pq = base;
      pq.emplace_back("limit", "1000");
      if (!cursor.empty()) pq.emplace_back("cursor", cursor);
      json p = get_json(api, "/api/v1/events" + ApiClient::query(pq));
      bool reached = false;
      for (const auto& e : p["events"]) {
        if (e["id"].get<int64_t>() <= newest) {
          reached = true;
          break;
        }
        fresh.push_back(e);
      }
      if (reached || p["next_cursor"].is_null() || newest == 0) break;
      cursor = std::to_string(p["next_cursor"].get<int64_t>());
    }
    if (fresh.empty()) continue;
    newest = fresh.front()["id"].get<int64_t>();
    std::reverse(fresh.begin(), fresh.end());
    print_events(fresh, f, false);
  }
}

// --- alerts --------------------------------------------------------------------------------

struct AlertsArgs {
  Connection conn;
  bool all = false;
  // rebaseline
  int64_t model_id = -1, version = -1;
  std::string group;
};

std::string watch_text(const json& key) {
  const std::string group = key.value("group", "");
  return str(key["model_id"]) + " v" + str(key["version"]) + (group.empty() ? " (ungrouped)" : " group " + group);
}

// "measure / bound": bits for the label mix and score, int8 steps (of the shift) for the input.
std::string bits(const json& divergence) {
  char text[64];
  if (divergence.contains("shift_steps")) {
    std::snprintf(text, sizeof text, "%+.3f / %.3f steps", divergence.value("shift_steps", 0.0),
                  divergence.value("bound_steps", 0.0));
  } else {
    std::snprintf(text, sizeof text, "%.4f / %.4f", divergence.value("jsd_bits", 0.0),
                  divergence.value("bound_bits", 0.0));
  }
  return text;
}

void run_alerts(const AlertsArgs& a) {
  auto api = client(a.conn);
  json j = get_json(api, "/api/v1/drift");
  const Format f = *format_from_string(a.conn.format);
  if (f == Format::kJson) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::vector<Row> rows;
  size_t active = 0;
  for (const auto& alert : j["alerts"]) {
    const bool is_active = alert.value("active", false);
    active += is_active ? 1 : 0;
    if (!is_active && !a.all) continue;
    rows.push_back({str(alert["id"]), iso_time(alert.value("raised_ms", int64_t{0})), watch_text(alert["key"]),
                    str(alert["kind"]), bits(alert["at_raise"]),
                    is_active ? "active"
                              : "cleared " + iso_time(alert.value("cleared_ms", int64_t{0})) + " (" +
                                    alert.value("cleared_by", "") + ")"});
  }
  std::cout << render_rows({"ID", "RAISED", "WATCH", "KIND", "MEASURE / BOUND", "STATE"}, rows, f);
  if (f != Format::kTable) return;
  std::cout << active << " active drift alarm" << (active == 1 ? "" : "s") << "\n\n";
  std::vector<Row> watches;
  for (const auto& w : j["watches"]) {
    const bool input = w.contains("input") && w["input"].is_object() && w["input"].value("judged", false);
    watches.push_back({watch_text(w["key"]), str(w["state"]), str(w["results"]), bits(w["label_mix"]),
                       bits(w["score"]), input ? bits(w["input"]["mean"]) : "-",
                       input ? bits(w["input"]["stddev"]) : "-"});
  }
  std::cout << render_rows({"WATCH", "STATE", "RESULTS", "LABEL MIX JSD / BOUND", "SCORE JSD / BOUND",
                            "INPUT MEAN SHIFT / BOUND", "INPUT STDDEV SHIFT / BOUND"},
                           watches, f);
}

void run_rebaseline(const AlertsArgs& a) {
  auto api = client(a.conn);
  std::vector<std::pair<std::string, std::string>> q = {{"model_id", std::to_string(a.model_id)},
                                                        {"version", std::to_string(a.version)}};
  if (!a.group.empty()) q.emplace_back("group", a.group);
  json j = call_json(api, "POST", "/api/v1/drift/rebaseline" + ApiClient::query(q));
  std::cout << "learning the baseline of " << watch_text(j["rebaselined"]) << " again; its alarms are cleared\n";
}

void install(CLI::App& app) {
  auto nodes_args = std::make_shared<NodesArgs>();
  auto* nodes = app.add_subcommand("nodes", "List the fleet: status, model version, last seen");
  add_connection_options(nodes, nodes_args->conn);
  nodes->add_option("--group", nodes_args->group, "Only nodes in this group");
  nodes->add_option("--status", nodes_args->status, "online or offline")->check(CLI::IsMember({"online", "offline"}));
  nodes->callback([nodes_args] { run_nodes(*nodes_args); });

  auto models_conn = std::make_shared<Connection>();
  auto* models = app.add_subcommand("models", "List the signed model packages the gateway holds");
  add_connection_options(models, *models_conn);
  models->callback([models_conn] { run_models(*models_conn); });

  auto logs_args = std::make_shared<LogsArgs>();
  auto* logs = app.add_subcommand("logs", "Query the inference log (newest first), follow it, or aggregate it");
  add_connection_options(logs, logs_args->conn);
  logs->add_option("--node", logs_args->node, "Only this node");
  logs->add_option("--group", logs_args->group, "Only nodes in this group");
  logs->add_option("--label", logs_args->label, "Only this top-1 label")->check(CLI::Range(0, 65535));
  logs->add_option("--min-score", logs_args->min_score, "Top-1 score at least this (0..255)")->check(CLI::Range(0, 255));
  logs->add_option("--since", logs_args->since, "Start: 15m, 2h, 7d (ago), unix ms or RFC 3339");
  logs->add_option("--until", logs_args->until, "End (exclusive), same forms as --since");
  logs->add_option("--limit", logs_args->limit, "Events to show (1..5000)")->check(CLI::Range(1, 5000));
  logs->add_flag("-f,--follow", logs_args->follow, "Keep printing new events as they arrive");
  logs->add_option("--interval", logs_args->interval_s, "Seconds between polls with --follow")->check(CLI::Range(0.1, 60.0));
  logs->add_option("--max-polls", logs_args->max_polls, "Stop --follow after this many polls")->group("");
  logs->add_option("--by", logs_args->by, "Aggregate instead: counts per label or per node (default window 24h)")
      ->check(CLI::IsMember({"label", "node"}));
  logs->callback([logs_args] { run_logs(*logs_args); });

  auto alerts_args = std::make_shared<AlertsArgs>();
  auto* alerts =
      app.add_subcommand("alerts", "Drift alarms: model versions whose results moved away from their baseline");
  add_connection_options(alerts, alerts_args->conn);
  alerts->add_flag("--all", alerts_args->all, "Also list cleared alarms");
  auto* rebaseline = alerts->add_subcommand(
      "rebaseline", "Accept a watch's current distribution as normal: learn its baseline again, clear its alarms");
  add_connection_options(rebaseline, alerts_args->conn);
  rebaseline->add_option("--model", alerts_args->model_id, "Model id")
      ->required()
      ->check(CLI::Range(int64_t{0}, int64_t{4294967295}));
  rebaseline->add_option("--version", alerts_args->version, "Model version")
      ->required()
      ->check(CLI::Range(int64_t{0}, int64_t{4294967295}));
  rebaseline->add_option("--group", alerts_args->group, "Node group (default: the ungrouped nodes)");
  rebaseline->callback([alerts_args] { run_rebaseline(*alerts_args); });
  alerts->callback([alerts_args, rebaseline] {
    if (rebaseline->parsed()) return;
    run_alerts(*alerts_args);
  });
}

const deploy::CommandRegistration kFleet{"60-fleet", &install};

}  // namespace
}  // namespace tinyedge::fleet
