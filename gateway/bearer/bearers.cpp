#include "gateway/bearer/bearers.h"

#include "gateway/bearer/ble/ble_bearer.h"
#include "gateway/bearer/endpoint.h"
#include "gateway/bearer/serial_bearer.h"
#include "gateway/core/config.h"

namespace tinyedge::gateway {
namespace {

Endpoint serial_endpoint(const std::string& entry) {
  if (entry == "mqtt" || entry.rfind("mqtt:", 0) == 0) {
    throw ConfigError("bearers: '" + entry +
                      "': the MQTT bearer is configured by the \"mqtt\" section (url, client_id, enabled), not "
                      "listed in \"bearers\"");
  }
  std::string error;
  auto endpoint = parse_endpoint(entry, error);
  if (!endpoint) throw ConfigError("bearers: " + error);
  return *endpoint;
}

bool is_ble(const std::string& entry) { return entry.rfind("ble:", 0) == 0; }

ble::BleOptions ble_options(const std::string& entry) {
  std::string error;
  auto options = ble::parse_ble_options(entry, error);
  if (!options) throw ConfigError("bearers: " + error);
  return *options;
}

}  // namespace

void check_bearer_list(const std::vector<std::string>& entries) {
  for (const auto& entry : entries) {
    if (is_ble(entry))
      ble_options(entry);
    else
      serial_endpoint(entry);
  }
}

std::vector<std::shared_ptr<Bearer>> make_link_bearers(const std::vector<std::string>& entries, BearerContext c) {
  std::vector<std::shared_ptr<Bearer>> bearers;
  for (const auto& entry : entries) {
    if (is_ble(entry)) {
      bearers.push_back(std::make_shared<ble::BleBearer>(c.io, ble_options(entry), c.ingest, c.auth, c.metrics, c.log));
      continue;
    }
    bearers.push_back(std::make_shared<SerialBearer>(c.io, serial_endpoint(entry), c.ingest, c.auth, c.metrics, c.log));
  }
  return bearers;
}

}  // namespace tinyedge::gateway
