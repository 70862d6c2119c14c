// Gateway configuration: a JSON file (comments allowed, see gateway.example.json) with command
// line overrides applied on top by main.cpp. Unknown keys are errors so a typo never silently
// falls back to a default.
#pragma once
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateway/core/log.h"
#include "gateway/drift/drift_options.h"
#include "gateway/store/store.h"

namespace tinyedge::gateway {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MqttConfig {
  bool enabled = true;
  std::string url = "tcp://127.0.0.1:1883";  // tcp://, ssl://, ws://, wss://
  std::string client_id = "tinyedge-gateway";  // fixed: the broker keeps our session under it
  std::string username;
  std::string password;
  std::string ca_file;    // TLS (ssl:// URLs)
  std::string cert_file;
  std::string key_file;
  bool tls_verify = true;
  std::string shared_group;  // non-empty: MQTT 5 and $share/<group>/... subscriptions
  int keepalive_s = 30;
  int session_expiry_s = 7 * 24 * 3600;  // MQTT 5: how long the broker keeps our session offline
};

struct ApiToken {
  std::string token;
  std::string role;  // "viewer" or "operator"
};

// Read by the dashboard API (dashboard_api/), which the daemon starts on its io_context.
struct ApiConfig {
  bool enabled = true;
  std::string listen = "127.0.0.1";
  int port = 8080;
  std::vector<ApiToken> tokens;
  std::string static_dir;
};

struct GatewayConfig {
  std::string data_dir = "/var/lib/tinyedge";
  std::string db_file = "tinyedge.db";  // relative to data_dir unless absolute
  LogLevel log_level = LogLevel::kInfo;
  MqttConfig mqtt;
  std::vector<std::string> bearers;  // serial/BLE-bridge endpoints, see bearer/endpoint.h
  std::string link_keys;             // directory of <node-id>.key files the bearers' links prove themselves with
  StoreOptions store;                // store.path is derived from data_dir/db_file
  ApiConfig api;
  drift::DriftOptions drift;  // read by gateway/drift, which main starts beside the daemon
  std::map<std::string, std::vector<std::string>> node_groups;  // node id -> groups/tags

  std::string db_path() const;
};

GatewayConfig parse_config(const std::string& json_text, const std::string& origin);
GatewayConfig load_config(const std::string& path);

}  // namespace tinyedge::gateway
