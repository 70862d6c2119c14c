// From the config's bearer list to Bearer objects. One entry, one bearer:
//   tcp-listen:, tcp-connect:, unix-listen:, unix-connect:, serial:   (bearer/endpoint.h)
//   ble:hci0[?max_connections=N&rssi=DBM&...]                         (bearer/ble/ble_options.h)
// The MQTT bearer is the one the "mqtt" section configures (on unless "enabled": false); naming it
// in "bearers" is refused with a message that says so, so one setting never has two homes.
#pragma once
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "gateway/bearer/bearer.h"
#include "gateway/bearer/link_auth.h"
#include "gateway/ingest/ingest.h"

namespace tinyedge::gateway {

struct BearerContext {
  boost::asio::io_context& io;
  Ingest& ingest;
  LinkAuthenticator& auth;  // shared by every link bearer: a node is bound to one live link at most
  Metrics& metrics;
  Logger& log;
};

// Checks every entry without starting anything. Throws ConfigError naming the entry and the problem.
void check_bearer_list(const std::vector<std::string>& entries);
// One bearer per entry, not started. Throws ConfigError for an entry check_bearer_list refuses.
std::vector<std::shared_ptr<Bearer>> make_link_bearers(const std::vector<std::string>& entries, BearerContext context);

}  // namespace tinyedge::gateway
