// The serial/BLE-bridge bearer: listens on and dials out to the configured endpoints
// (bearer/endpoint.h) and runs one StreamLink per connection. Many links at once; each proves
// its node with that node's link key from `link_keys` (bearer/link_auth.h) before it counts. A future
// BlueZ GATT backend fits beside these as another Link implementation fed by notifications.
#pragma once
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gateway/bearer/endpoint.h"
#include "gateway/bearer/stream_link.h"

namespace tinyedge::gateway {

class SerialBearer {
 public:
  // `link_keys`: the directory of <node-id>.key files links prove themselves against.
  SerialBearer(boost::asio::io_context& io, Ingest& ingest, Metrics& metrics, Logger& log,
               const std::filesystem::path& link_keys);
  ~SerialBearer();

  // Starts listening / dialling. Throws std::runtime_error naming the endpoint if a listener
  // cannot bind or a serial device cannot be opened.
  void add(const Endpoint& endpoint);
  // Closes listeners and every link, stops redialling.
  void stop();
  // What the listeners actually bound ("tcp-listen:127.0.0.1:41234" for a port-0 endpoint).
  std::vector<std::string> listening() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tinyedge::gateway
