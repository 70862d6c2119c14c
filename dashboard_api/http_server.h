// The HTTP/1.1 front door: Boost.Beast, one Session object per connection, keep-alive, and the
// limits that keep a hostile client from holding the server (header/body size, a deadline per
// request that also ends slowloris reads, connection caps, a per-client request rate). The
// header is read first: route, token and role are checked and the body is admitted against a
// budget shared by all connections before a byte of it is read.
// Handlers run on a small worker pool so a slow query never stalls the gateway's io_context.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "dashboard_api/router.h"
#include "dashboard_api/server_metrics.h"

namespace boost::asio {
class io_context;
}

namespace tinyedge::dashboard {

struct ServerLimits {
  size_t header_limit = 8 * 1024;          // bytes of request line + headers -> 431
  size_t body_limit = 16 * 1024 * 1024;    // bytes of body (model packages) -> 413
  // Bytes of request bodies held at once over all connections (a chunked body counts as
  // body_limit) -> 503 before the body is read.
  size_t body_budget = 64 * 1024 * 1024;
  std::chrono::milliseconds request_timeout{15'000};  // to read one whole request (and keep-alive idle)
  size_t max_connections = 1024;
  size_t max_connections_per_client = 256;
  double rate_per_client = 200;  // requests/s sustained per remote address; <= 0: unlimited
  double burst_per_client = 400;
  unsigned handler_threads = 2;  // 0: run handlers inline on the io_context
  // Live responses (server-sent events): how many may be open at once (-> 503 beyond), how
  // often each is polled, and the silence after which a comment line keeps proxies from closing it.
  size_t max_feeds = 64;
  std::chrono::milliseconds feed_interval{1'000};
  std::chrono::milliseconds feed_keepalive{15'000};
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, const Router& router, ServerLimits limits, ServerMetrics& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting; port 0 picks a free one. Returns the bound port. Throws on failure.
  uint16_t listen(const std::string& address, uint16_t port);
  // Stops accepting and closes open connections; waits for the handler pool to drain.
  void stop();

  struct Impl;  // shared with the sessions (http_server.cpp)

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace tinyedge::dashboard
