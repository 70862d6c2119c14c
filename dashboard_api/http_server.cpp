#include "dashboard_api/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "dashboard_api/rate_limiter.h"
#include "dashboard_api/request_target.h"

namespace tinyedge::dashboard {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class Session;

// Everything sessions share; held by shared_ptr so a session outliving stop() stays valid.
struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, const Router& r, ServerLimits l, ServerMetrics& m)
      : io(io), router(r), limits(l), metrics(m), limiter(l.rate_per_client, l.burst_per_client), acceptor(io) {
    if (limits.handler_threads > 0) pool.emplace(limits.handler_threads);
  }

  asio::io_context& io;
  const Router& router;
  ServerLimits limits;
  ServerMetrics& metrics;
  RateLimiter limiter;
  tcp::acceptor acceptor;
  std::optional<asio::thread_pool> pool;

  std::mutex mutex;  // guards the two below
  std::map<std::string, size_t> per_client;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
  bool stopped = false;

  void accept();
};

namespace {

Method to_method(http::verb v) {
  switch (v) {
    case http::verb::get: return Method::kGet;
    case http::verb::head: return Method::kHead;
    case http::verb::post: return Method::kPost;
    case http::verb::put: return Method::kPut;
    case http::verb::delete_: return Method::kDelete;
    default: return Method::kOther;
  }
}

}  // namespace

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<HttpServer::Impl> server, std::string client)
      : stream_(std::move(socket)), server_(std::move(server)), client_(std::move(client)) {}

  ~Session() {
    server_->metrics.connections_open--;
    std::lock_guard lock(server_->mutex);
    if (--server_->per_client[client_] == 0) server_->per_client.erase(client_);
  }

  void run() { asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::read, shared_from_this())); }

  void close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->limits.header_limit));
    parser_->body_limit(server_->limits.body_limit);
    // One deadline for the whole request: a client trickling bytes (slowloris) is cut off at it.
    stream_.expires_after(server_->limits.request_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return shutdown();
    if (ec == beast::error::timeout) {
      if (parser_->got_some()) server_->metrics.timeouts++;
      return;  // tcp_stream has closed the socket
    }
    if (ec) {
      if (ec.category() != beast::error_code(http::error::end_of_stream).category()) return;  // socket gone
      server_->metrics.malformed++;
      if (ec == http::error::header_limit)
        return reply_and_close(error_response(431, "headers_too_large", "request headers exceed " +
                                                                         std::to_string(server_->limits.header_limit) +
                                                                         " bytes"));
      if (ec == http::error::body_limit)
        return reply_and_close(error_response(
            413, "body_too_large", "request body exceeds " + std::to_string(server_->limits.body_limit) + " bytes"));
      return reply_and_close(error_response(400, "bad_request", "malformed HTTP request: " + ec.message()));
    }

    started_ = std::chrono::steady_clock::now();
    const auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    version_ = req.version();

    if (!server_->limiter.allow(client_)) {
      ApiResponse r = error_response(429, "rate_limited", "too many requests from this client; slow down");
      r.headers.emplace_back("Retry-After", "1");
      return respond(std::move(r));
    }
    std::string why;
    auto target = parse_request_target(std::string_view(req.target().data(), req.target().size()), why);
    if (!target) return respond(error_response(400, "bad_request", why));

    ApiRequest api;
    api.method = to_method(req.method());
    api.path = std::move(target->path);
    api.query = std::move(target->query);
    if (auto it = req.find(http::field::authorization); it != req.end()) api.authorization = std::string(it->value());
    if (auto it = req.find(http::field::content_type); it != req.end()) api.content_type = std::string(it->value());
    api.body = parser_->release().body();
    api.client = client_;

    if (!server_->pool) return respond(server_->router.dispatch(api));
    asio::post(*server_->pool, [self = shared_from_this(), api = std::move(api)]() mutable {
      ApiResponse r = self->server_->router.dispatch(api);
      asio::post(self->stream_.get_executor(),
                 [self, r = std::move(r)]() mutable { self->respond(std::move(r)); });
    });
  }

  void reply_and_close(ApiResponse r) {
    keep_alive_ = false;
    started_ = std::chrono::steady_clock::now();
    respond(std::move(r));
  }

  void respond(ApiResponse r) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    server_->metrics.record(r.status, seconds);
    res_.emplace();
    res_->version(version_);
    res_->result(static_cast<unsigned>(r.status));
    res_->set(http::field::server, "tinyedge-gateway");
    res_->set(http::field::content_type, r.content_type);
    res_->set("X-Content-Type-Options", "nosniff");
    for (auto& [k, v] : r.headers) res_->set(k, v);
    // After a protocol error the stream position is unknown: never reuse the connection.
    res_->keep_alive(keep_alive_ && r.status != 400 && r.status != 413 && r.status != 431);
    res_->body() = std::move(r.body);
    res_->prepare_payload();
    stream_.expires_after(server_->limits.request_timeout);
    http::async_write(stream_, *res_, beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return;
    if (!res_->keep_alive()) return shutdown();
    res_.reset();
    read();
  }

  void shutdown() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<HttpServer::Impl> server_;
  std::string client_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  std::chrono::steady_clock::time_point started_{};
  bool keep_alive_ = false;
  unsigned version_ = 11;
};

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      return self->accept();  // e.g. EMFILE: keep serving the connections we have
    }
    beast::error_code addr_ec;
    auto endpoint = socket.remote_endpoint(addr_ec);
    if (addr_ec) return self->accept();
    std::string client = endpoint.address().to_string();
    self->metrics.connections_accepted++;
    std::shared_ptr<Session> session;
    {
      std::lock_guard lock(self->mutex);
      size_t& mine = self->per_client[client];
      if (self->stopped || self->metrics.connections_open >= self->limits.max_connections ||
          mine >= self->limits.max_connections_per_client) {
        if (mine == 0) self->per_client.erase(client);
        self->metrics.connections_refused++;
        socket.close(addr_ec);
        return self->accept();
      }
      ++mine;
      self->metrics.connections_open++;
      session = std::make_shared<Session>(std::move(socket), self, client);
      self->sessions.insert(session);
      if (self->sessions.size() > 2 * self->limits.max_connections)
        std::erase_if(self->sessions, [](const auto& w) { return w.expired(); });
    }
    session->run();
    self->accept();
  });
}

HttpServer::HttpServer(asio::io_context& io, const Router& router, ServerLimits limits, ServerMetrics& metrics)
    : impl_(std::make_shared<Impl>(io, router, limits, metrics)) {}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::listen(const std::string& address, uint16_t port) {
  tcp::endpoint endpoint(asio::ip::make_address(address), port);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  impl_->accept();
  return impl_->acceptor.local_endpoint().port();
}

void HttpServer::stop() {
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
    for (auto& w : impl_->sessions)
      if (auto s = w.lock()) open.push_back(std::move(s));
    impl_->sessions.clear();
  }
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  for (auto& s : open) s->close();
  if (impl_->pool) impl_->pool->join();
}

}  // namespace tinyedge::dashboard
