#include "gateway/core/config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

namespace tinyedge::gateway {

std::string GatewayConfig::db_path() const {
  if (!db_file.empty() && db_file.front() == '/') return db_file;
  return data_dir + "/" + db_file;
}

namespace {

using nlohmann::json;

// Reads the keys of one object, rejecting any it does not know.
class Section {
 public:
  Section(const json& value, std::string where) : value_(value), where_(std::move(where)) {
    if (!value_.is_object()) throw ConfigError(where_ + ": expected an object");
  }
  ~Section() noexcept(false) {
    if (std::uncaught_exceptions() > 0) return;
    for (const auto& [key, _] : value_.items()) {
      if (!seen_.count(key)) throw ConfigError(where_ + ": unknown key '" + key + "'");
    }
  }
  template <typename T>
  void get(const char* key, T& out) {
    seen_.insert(key);
    auto it = value_.find(key);
    if (it == value_.end()) return;
    try {
      out = it->template get<T>();
    } catch (const json::exception&) {
      throw ConfigError(where_ + "." + key + ": wrong type (" + it->type_name() + ")");
    }
  }
  const json* child(const char* key) {
    seen_.insert(key);
    auto it = value_.find(key);
    return it == value_.end() ? nullptr : &*it;
  }
  std::string path(const char* key) const { return where_ + "." + key; }

 private:
  const json& value_;
  std::string where_;
  std::set<std::string> seen_;
};

void positive(const std::string& where, int64_t value, bool zero_ok) {
  if (value < 0 || (!zero_ok && value == 0)) throw ConfigError(where + ": must be " + (zero_ok ? ">= 0" : "> 0"));
}

}  // namespace

GatewayConfig parse_config(const std::string& json_text, const std::string& origin) {
  json root;
  try {
    root = json::parse(json_text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& error) {
    throw ConfigError(origin + ": not valid JSON: " + error.what());
  }
  GatewayConfig config;
  Section top(root, origin);
  top.get("data_dir", config.data_dir);
  top.get("db_file", config.db_file);
  std::string level = to_string(config.log_level);
  top.get("log_level", level);
  if (!parse_log_level(level, config.log_level)) {
    throw ConfigError(top.path("log_level") + ": '" + level + "' is not debug, info, warn or error");
  }
  if (const json* m = top.child("mqtt")) {
    Section s(*m, top.path("mqtt"));
    auto& c = config.mqtt;
    s.get("enabled", c.enabled);
    s.get("url", c.url);
    s.get("client_id", c.client_id);
    s.get("username", c.username);
    s.get("password", c.password);
    s.get("ca_file", c.ca_file);
    s.get("cert_file", c.cert_file);
    s.get("key_file", c.key_file);
    s.get("tls_verify", c.tls_verify);
    s.get("shared_group", c.shared_group);
    s.get("keepalive_s", c.keepalive_s);
    s.get("session_expiry_s", c.session_expiry_s);
    positive(s.path("keepalive_s"), c.keepalive_s, false);
    if (c.client_id.empty()) throw ConfigError(s.path("client_id") + ": must not be empty");
  }
  top.get("bearers", config.bearers);
  top.get("link_keys", config.link_keys);
  if (const json* st = top.child("store")) {
    Section s(*st, top.path("store"));
    auto& o = config.store;
    s.get("backend", o.backend);
    s.get("url", o.url);
    if (o.backend != "sqlite" && o.backend != "postgres") {
      throw ConfigError(s.path("backend") + ": must be \"sqlite\" or \"postgres\", not \"" + o.backend + "\"");
    }
    if (o.backend == "postgres" && o.url.empty()) {
      throw ConfigError(s.path("url") +
                        ": required with \"backend\": \"postgres\" (postgresql://user:password@host/db)");
    }
    s.get("batch_max_events", o.batch_max_events);
    s.get("batch_linger_ms", o.batch_linger_ms);
    s.get("synchronous", o.synchronous);
    s.get("queue_max_items", o.queue_max_items);
    s.get("ack_gap_timeout_ms", o.ack_gap_timeout_ms);
    double wal_max_mb = static_cast<double>(o.wal_max_bytes) / (1024 * 1024);
    s.get("wal_max_mb", wal_max_mb);
    if (!(wal_max_mb >= 0.0625)) throw ConfigError(s.path("wal_max_mb") + ": must be at least 0.0625 (64 KiB)");
    o.wal_max_bytes = static_cast<int64_t>(wal_max_mb * 1024 * 1024);
    std::string startup_check = "bounded";
    s.get("startup_check", startup_check);
    if (startup_check != "bounded" && startup_check != "full") {
      throw ConfigError(s.path("startup_check") + ": must be \"bounded\" or \"full\"");
    }
    o.startup_check = startup_check == "full" ? StartupCheck::kFull : StartupCheck::kBounded;
    positive(s.path("batch_max_events"), static_cast<int64_t>(o.batch_max_events), false);
    positive(s.path("batch_linger_ms"), o.batch_linger_ms, true);
    if (o.synchronous != "FULL" && o.synchronous != "NORMAL" && o.synchronous != "EXTRA") {
      throw ConfigError(s.path("synchronous") + ": must be FULL, NORMAL or EXTRA");
    }
  }
  if (const json* r = top.child("retention")) {
    Section s(*r, top.path("retention"));
    auto& o = config.store.retention;
    double max_age_days = 0, max_db_mb = 0;
    s.get("max_age_days", max_age_days);
    s.get("max_events", o.max_events);
    s.get("max_db_mb", max_db_mb);
    s.get("chunk_rows", o.chunk_rows);
    s.get("interval_ms", o.interval_ms);
    if (max_age_days < 0 || max_db_mb < 0) throw ConfigError(top.path("retention") + ": limits must be >= 0");
    o.max_age_ms = static_cast<int64_t>(max_age_days * 86400.0 * 1000.0);
    o.max_db_bytes = static_cast<int64_t>(max_db_mb * 1024.0 * 1024.0);
    positive(s.path("max_events"), o.max_events, true);
    positive(s.path("chunk_rows"), o.chunk_rows, false);
    positive(s.path("interval_ms"), o.interval_ms, false);
  }
  if (const json* a = top.child("api")) {
    Section s(*a, top.path("api"));
    auto& c = config.api;
    s.get("enabled", c.enabled);
    s.get("listen", c.listen);
    s.get("port", c.port);
    s.get("static_dir", c.static_dir);
    if (c.port < 0 || c.port > 65535) throw ConfigError(s.path("port") + ": must be 0..65535");
    if (const json* tokens = s.child("tokens")) {
      if (!tokens->is_array()) throw ConfigError(s.path("tokens") + ": expected an array");
      for (size_t i = 0; i < tokens->size(); ++i) {
        Section t((*tokens)[i], s.path("tokens") + "[" + std::to_string(i) + "]");
        ApiToken token;
        t.get("token", token.token);
        t.get("role", token.role);
        if (token.token.empty()) throw ConfigError(s.path("tokens") + "[" + std::to_string(i) + "].token: empty");
        if (token.role != "viewer" && token.role != "operator") {
          throw ConfigError(s.path("tokens") + "[" + std::to_string(i) + "].role: must be viewer or operator");
        }
        c.tokens.push_back(std::move(token));
      }
    }
  }
  if (const json* d = top.child("drift")) {
    Section s(*d, top.path("drift"));
    auto& o = config.drift;
    // Counts are read as signed numbers first: a negative one must be an error, not wrap around.
    int64_t baseline = o.baseline, window = o.window, evaluate_every = o.evaluate_every, confirm = o.confirm,
            input_baseline = o.input_baseline, input_window = o.input_window;
    s.get("enabled", o.enabled);
    s.get("baseline", baseline);
    s.get("window", window);
    s.get("evaluate_every", evaluate_every);
    s.get("max_label_jsd", o.max_label_jsd);
    s.get("max_score_jsd", o.max_score_jsd);
    s.get("quantile", o.quantile);
    s.get("confirm", confirm);
    s.get("input_baseline", input_baseline);
    s.get("input_window", input_window);
    s.get("max_input_shift", o.max_input_shift);
    constexpr int64_t kMaxCount = 10'000'000;
    for (auto [key, value, zero_ok] :
         {std::tuple{"baseline", baseline, false}, std::tuple{"window", window, false},
          std::tuple{"evaluate_every", evaluate_every, true}, std::tuple{"confirm", confirm, false},
          std::tuple{"input_baseline", input_baseline, false}, std::tuple{"input_window", input_window, false}}) {
      positive(s.path(key), value, zero_ok);
      if (value > kMaxCount) throw ConfigError(s.path(key) + ": at most 10000000");
    }
    o.baseline = static_cast<uint32_t>(baseline);
    o.window = static_cast<uint32_t>(window);
    o.evaluate_every = static_cast<uint32_t>(evaluate_every);
    o.confirm = static_cast<uint32_t>(confirm);
    o.input_baseline = static_cast<uint32_t>(input_baseline);
    o.input_window = static_cast<uint32_t>(input_window);
    if (!(o.max_input_shift >= 0 && o.max_input_shift <= 256))
      throw ConfigError(s.path("max_input_shift") + ": must be 0..256 (int8 steps)");
    if (!(o.max_label_jsd >= 0 && o.max_label_jsd <= 1))
      throw ConfigError(s.path("max_label_jsd") + ": must be 0..1 (bits)");
    if (!(o.max_score_jsd >= 0 && o.max_score_jsd <= 1))
      throw ConfigError(s.path("max_score_jsd") + ": must be 0..1 (bits)");
    if (!(o.quantile >= 0.5 && o.quantile <= 0.9999)) throw ConfigError(s.path("quantile") + ": must be 0.5..0.9999");
  }
  top.get("node_groups", config.node_groups);
  config.store.path = config.db_path();
  return config;
}

GatewayConfig load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

}  // namespace tinyedge::gateway
