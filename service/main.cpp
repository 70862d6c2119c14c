// tinyedge-gateway: reads the config file, applies command line overrides, runs the daemon on
// one io_context until SIGTERM/SIGINT.
#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <filesystem>

#include "service/dashboard_wiring.h"
#include "gateway/daemon.h"
#include "gateway/drift/drift_monitor.h"
#include "gateway/drift/telemetry_inputs.h"
#include "gateway/rollout/rollout_runner.h"
#include "gateway/store/drift_baseline_store.h"

namespace gw = tinyedge::gateway;

int main(int argc, char** argv) {
  CLI::App app{
      "TinyEdge gateway: ingests node uplinks (MQTT, serial/BLE bearer) into its store (SQLite, or PostgreSQL)"};
  std::string config_path, data_dir, broker, client_id, shared_group, log_level, synchronous, link_keys;
  std::vector<std::string> bearers;
  int api_port = -1;
  bool no_mqtt = false;
  tinyedge::rollout::RolloutOptions rollout_options;
  app.add_option("-c,--config", config_path, "JSON config file (see gateway.example.json)");
  app.add_option("--data-dir", data_dir, "Directory of the SQLite database (store.backend sqlite)");
  app.add_option("--broker", broker, "MQTT broker URL, e.g. tcp://127.0.0.1:1883");
  app.add_option("--client-id", client_id, "MQTT client id (fixed: the broker keeps the session under it)");
  app.add_option("--shared-group", shared_group, "Subscribe via MQTT 5 $share/<group>/...");
  app.add_option("--bearer", bearers, "Serial/BLE bearer endpoint (repeatable), added to the config's");
  app.add_option("--link-keys", link_keys,
                 "Directory of <node-id>.key link keys the bearer links prove themselves with");
  app.add_option("--log-level", log_level, "debug, info, warn or error");
  app.add_option("--synchronous", synchronous, "SQLite synchronous: FULL (default) or NORMAL");
  app.add_option("--api-port", api_port, "Dashboard API port");
  app.add_flag("--no-mqtt", no_mqtt, "Do not connect to a broker (serial bearer only)");
  bool check_store = false;
  app.add_flag("--check-store", check_store,
               "Check the whole database file before serving it (integrity_check: slow on a big store)");
  app.add_option("--fleet-key", rollout_options.fleet_public_keys,
                 "Fleet public key (PEM, repeatable): uploaded packages must verify against one; enables rollouts");
  app.add_option("--rollback-key", rollout_options.grant_key,
                 "Rollback-only private key (PEM) that signs rollback grants for `rollout abort --rollback`; "
                 "never the fleet key (refused): nodes trust its public half for grants only");
  app.add_option("--ota-rate", rollout_options.ota.bytes_per_second,
                 "OTA payload bytes per second for the whole gateway (keeps ingest responsive)");
  CLI11_PARSE(app, argc, argv);

  gw::Logger log;
  gw::GatewayConfig config;
  try {
    if (!config_path.empty()) config = gw::load_config(config_path);
    if (!data_dir.empty()) config.data_dir = data_dir;
    if (!broker.empty()) config.mqtt.url = broker;
    if (!client_id.empty()) config.mqtt.client_id = client_id;
    if (!shared_group.empty()) config.mqtt.shared_group = shared_group;
    if (!synchronous.empty()) config.store.synchronous = synchronous;
    if (no_mqtt) config.mqtt.enabled = false;
    if (check_store) config.store.startup_check = gw::StartupCheck::kFull;
    if (api_port >= 0) config.api.port = api_port;
    config.bearers.insert(config.bearers.end(), bearers.begin(), bearers.end());
    if (!link_keys.empty()) config.link_keys = link_keys;
    if (!log_level.empty() && !gw::parse_log_level(log_level, config.log_level)) {
      throw gw::ConfigError("--log-level: '" + log_level + "' is not debug, info, warn or error");
    }
    config.store.path = config.db_path();
    std::filesystem::create_directories(config.data_dir);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tinyedge-gateway: %s\n", error.what());
    return 2;
  }
  log.set_level(config.log_level);

  boost::asio::io_context io;
  gw::Gateway gateway(io, config, log);
  try {
    gateway.start();
  } catch (const std::exception& error) {
    log.error("gateway", "cannot start", {{"error", error.what()}});
    return 1;
  }

  std::unique_ptr<tinyedge::rollout::RolloutRunner> rollouts;
  if (!rollout_options.fleet_public_keys.empty()) {
    try {
      rollouts = std::make_unique<tinyedge::rollout::RolloutRunner>(io, gateway, rollout_options);
      rollouts->start();
    } catch (const std::exception& error) {
      log.error("rollout", "cannot start", {{"error", error.what()}});
      return 1;
    }
  } else {
    log.warn("rollout", "no --fleet-key: model registry and rollouts are off");
  }

  // Drift alarms: a thread of its own tailing the store (every gateway on a shared store watches it).
  std::unique_ptr<tinyedge::drift::DriftMonitor> drift;
  if (config.drift.enabled) {
    drift = std::make_unique<tinyedge::drift::DriftMonitor>(
        config.drift, [&gateway] { return gateway.open_query(); }, log,
        [&config] { return gw::open_drift_baseline_store(config.store); });
    gateway.add_observer(std::make_shared<tinyedge::drift::TelemetryInputs>(*drift));
    drift->start();
  }

  // Dashboard API (dashboard_api/): REST + web page on this same io_context.
  std::unique_ptr<tinyedge::dashboard::DashboardApi> dashboard;
  if (config.api.enabled) {
    try {
      dashboard =
          tinyedge::dashboard::start_dashboard(io, gateway, rollouts ? &rollouts->control() : nullptr, drift.get());
    } catch (const std::exception& error) {
      log.error("dashboard", "cannot start", {{"error", error.what()}});
      return 1;
    }
  }

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log.info("gateway", "signal received", {{"signal", signal}});
    if (dashboard) dashboard->stop();
    if (rollouts) rollouts->stop();
    gateway.shutdown([&] { io.stop(); });
  });
  io.run();
  return 0;
}
