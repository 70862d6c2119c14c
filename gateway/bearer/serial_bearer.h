// The serial/BLE-bridge bearer for one endpoint (bearer/endpoint.h): listens on or dials out to it
// and runs one StreamLink per connection. Many links at once; each proves its node with that
// node's link key (bearer/link_auth.h) before it counts. The authenticator is the daemon's, shared
// by every link bearer, so a node bound on one endpoint cannot be claimed on another.
#pragma once
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "gateway/bearer/bearer.h"
#include "gateway/bearer/endpoint.h"
#include "gateway/bearer/framed_link.h"

namespace tinyedge::gateway {

class SerialBearer final : public Bearer {
 public:
  SerialBearer(boost::asio::io_context& io, Endpoint endpoint, Ingest& ingest, LinkAuthenticator& auth,
               Metrics& metrics, Logger& log);
  ~SerialBearer() override;

  const std::string& name() const override;
  // Starts listening / dialling. Throws std::runtime_error naming the endpoint if a listener
  // cannot bind.
  void start() override;
  // Closes listeners and every link, stops redialling: what arrives later is never read.
  void stop_intake() override;
  void close() override { stop_intake(); }
  BearerStatus status() const override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tinyedge::gateway
