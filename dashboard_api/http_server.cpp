#include "dashboard_api/http_server.h"

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

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

  // Request body bytes admitted over all connections (limits.body_budget at most).
  std::atomic<size_t> body_in_flight{0};
  std::atomic<size_t> feeds_open{0};  // live responses (server-sent events) open now
  bool reserve_body(size_t bytes) {
    size_t held = body_in_flight.load();
    do {
      if (bytes > limits.body_budget || held > limits.body_budget - bytes) return false;
    } while (!body_in_flight.compare_exchange_weak(held, held + bytes));
    metrics.body_bytes_in_flight += bytes;
    return true;
  }
  void release_body(size_t bytes) {
    body_in_flight -= bytes;
    metrics.body_bytes_in_flight -= bytes;
  }

  std::mutex mutex;  // guards the two below
  std::map<std::string, size_t> per_client;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
  bool stopped = false;

  void accept();
};

namespace {

Method to_method(http::verb v) {
  switch (v) {
    case http::verb::get:
      return Method::kGet;
    case http::verb::head:
      return Method::kHead;
    case http::verb::post:
      return Method::kPost;
    case http::verb::put:
      return Method::kPut;
    case http::verb::delete_:
      return Method::kDelete;
    default:
      return Method::kOther;
  }
}

bool expects_continue(const http::request<http::string_body>& req) {
  auto it = req.find(http::field::expect);
  return it != req.end() && beast::iequals(it->value(), "100-continue");
}

// A share of the body budget, given back when the body it covers is gone.
class BodyLease {
 public:
  BodyLease() = default;
  BodyLease(std::shared_ptr<HttpServer::Impl> server, size_t bytes) : server_(std::move(server)), bytes_(bytes) {}
  BodyLease(BodyLease&& o) noexcept : server_(std::move(o.server_)), bytes_(std::exchange(o.bytes_, 0)) {}
  BodyLease& operator=(BodyLease&& o) noexcept {
    if (this != &o) {
      release();
      server_ = std::move(o.server_);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  ~BodyLease() { release(); }
  void release() {
    if (server_ && bytes_) server_->release_body(bytes_);
    bytes_ = 0;
    server_.reset();
  }

 private:
  std::shared_ptr<HttpServer::Impl> server_;
  size_t bytes_ = 0;
};

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
      if (self->timer_) self->timer_->cancel();
    });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->limits.header_limit));
    parser_->body_limit(server_->limits.body_limit);
    // One deadline for the whole request: a client trickling bytes (slowloris) is cut off at it.
    stream_.expires_after(server_->limits.request_timeout);
    // The header alone first: nothing of the body is read (or allocated) before it is admitted.
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  // False (having answered or given up on the connection) when the read failed.
  bool read_ok(beast::error_code ec) {
    if (ec == http::error::end_of_stream) {
      shutdown();
      return false;
    }
    if (ec == beast::error::timeout) {
      if (parser_->got_some()) server_->metrics.timeouts++;
      return false;  // tcp_stream has closed the socket
    }
    if (!ec) return true;
    if (ec.category() != beast::error_code(http::error::end_of_stream).category()) return false;  // socket gone
      server_->metrics.malformed++;
      if (ec == http::error::header_limit)
      reply_and_close(
          error_response(431, "headers_too_large",
                         "request headers exceed " + std::to_string(server_->limits.header_limit) + " bytes"));
    else if (ec == http::error::body_limit)
      reply_and_close(error_response(413, "body_too_large",
                                     "request body exceeds " + std::to_string(server_->limits.body_limit) + " bytes"));
    else
      reply_and_close(error_response(400, "bad_request", "malformed HTTP request: " + ec.message()));
    return false;
    }

  void on_header(beast::error_code ec, std::size_t) {
    if (!read_ok(ec)) return;
    started_ = std::chrono::steady_clock::now();
    const auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    // With no body the request is complete; otherwise any refusal is sent instead of reading it.
    const bool body_follows = !parser_->is_done();
    const auto answer = [&](ApiResponse r) {
      return body_follows ? reply_and_close(std::move(r)) : respond(std::move(r));
    };

    if (!server_->limiter.allow(client_)) {
      ApiResponse r = error_response(429, "rate_limited", "too many requests from this client; slow down");
      r.headers.emplace_back("Retry-After", "1");
      return answer(std::move(r));
    }
    std::string why;
    auto target = parse_request_target(std::string_view(req.target().data(), req.target().size()), why);
    if (!target) return answer(error_response(400, "bad_request", why));

    ApiRequest api;
    api.method = to_method(req.method());
    api.path = std::move(target->path);
    api.query = std::move(target->query);
    if (auto it = req.find(http::field::authorization); it != req.end()) api.authorization = std::string(it->value());
    if (auto it = req.find(http::field::content_type); it != req.end()) api.content_type = std::string(it->value());
    api.client = client_;
    if (!body_follows) return dispatch(std::move(api), {});

    // Route, token and role from the headers: a caller who may not send this body never gets to.
    if (auto refusal = server_->router.admit(api)) {
      server_->metrics.refused_before_body++;
      return reply_and_close(std::move(*refusal));
    }
    // A chunked body can grow to body_limit: it is held to that much of the budget.
    const size_t announced =
        parser_->content_length() ? static_cast<size_t>(*parser_->content_length()) : server_->limits.body_limit;
    if (!server_->reserve_body(announced)) {
      server_->metrics.refused_before_body++;
      server_->metrics.body_budget_refused++;
      ApiResponse r = error_response(503, "busy",
                                     "the server is receiving too many request bodies at once (" +
                                         std::to_string(server_->limits.body_budget) + " bytes in total); this " +
                                         std::to_string(announced) + "-byte body was not read, retry later");
      r.headers.emplace_back("Retry-After", "1");
      return reply_and_close(std::move(r));
    }
    lease_ = BodyLease(server_, announced);
    pending_ = std::move(api);
    if (expects_continue(req)) {
      continue_.emplace(http::status::continue_, version_);
      return http::async_write(stream_, *continue_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (!ec) self->read_body();
      });
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t) {
    if (!read_ok(ec)) {
      lease_.release();
      return;
    }
    pending_->body = parser_->release().body();
    dispatch(std::move(*pending_), std::move(lease_));
    pending_.reset();
  }

  void dispatch(ApiRequest api, BodyLease lease) {
    if (!server_->pool) {
      ApiResponse r = server_->router.dispatch(api);
      std::string().swap(api.body);
      lease.release();
      return respond(std::move(r));
    }
    asio::post(*server_->pool, [self = shared_from_this(), api = std::move(api), lease = std::move(lease)]() mutable {
      ApiResponse r = self->server_->router.dispatch(api);
      std::string().swap(api.body);  // the body's share of the budget goes back only once it is freed
      lease.release();
      asio::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable { self->respond(std::move(r)); });
    });
  }

  // Answers and closes a connection whose request was not read to its end: the rest is read and
  // dropped for a moment after the answer (into a small buffer), so that the client, still sending,
  // gets the answer instead of a connection reset.
  void reply_and_close(ApiResponse r) {
    keep_alive_ = false;
    linger_ = true;
    started_ = std::chrono::steady_clock::now();
    respond(std::move(r));
  }

  void linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return;
    drain_ = std::make_unique<std::array<char, 4096>>();
    stream_.expires_after(std::min<std::chrono::milliseconds>(server_->limits.request_timeout, kLinger));
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(*drain_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        beast::error_code ignored;
        self->stream_.socket().close(ignored);
        return;
      }
      self->drain();
    });
  }

  // --- live responses (server-sent events) ------------------------------------------------------
  // The header goes out without a length (the body ends with the connection), then the feed's
  // text as it comes: poll() on the pool every feed_interval, written on the session's executor.
  void start_feed(ApiResponse r) {
    if (server_->feeds_open.fetch_add(1) >= server_->limits.max_feeds) {
      server_->feeds_open--;
      r = error_response(503, "busy", "too many live connections (" + std::to_string(server_->limits.max_feeds) +
                                          " open); retry later");
      r.headers.emplace_back("Retry-After", "5");
      keep_alive_ = false;
      return respond(std::move(r));
    }
    feed_ = std::move(r.feed);
    server_->metrics.record(200, 0);
    std::string head = "HTTP/1.1 200 OK\r\nServer: tinyedge-gateway\r\nContent-Type: " + r.content_type +
                       "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n";
    for (auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    stream_.expires_never();
    last_sent_ = std::chrono::steady_clock::now();
    write_feed(head + "\r\n" + r.body);
    // The client sends nothing more; a read that ends tells at once that it went away.
    drain_ = std::make_unique<std::array<char, 4096>>();
    watch_feed();
  }
  void watch_feed() {
    stream_.async_read_some(asio::buffer(*drain_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->end_feed();
      self->watch_feed();
    });
  }
  void write_feed(std::string text) {
    feed_out_ = std::move(text);
    last_sent_ = std::chrono::steady_clock::now();
    asio::async_write(stream_, asio::buffer(feed_out_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->end_feed();
      self->wait_feed();
    });
  }
  void wait_feed() {
    if (!timer_) timer_.emplace(stream_.get_executor());
    timer_->expires_after(server_->limits.feed_interval);
    timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->stream_.socket().is_open()) return self->end_feed();
      self->poll_feed();
    });
  }
  void poll_feed() {
    auto finish = [self = shared_from_this()](std::optional<std::string> text) {
      if (!text) return self->end_feed();
      if (text->empty() && std::chrono::steady_clock::now() - self->last_sent_ >= self->server_->limits.feed_keepalive)
        *text = ": keep-alive\n\n";
      if (text->empty()) return self->wait_feed();
      self->write_feed(std::move(*text));
    };
    auto poll = [feed = feed_]() -> std::optional<std::string> {
      try {
        return feed->poll();
      } catch (const std::exception&) {
        return std::nullopt;  // the feed's source failed: the client reconnects
      }
    };
    if (!server_->pool) return finish(poll());
    asio::post(*server_->pool, [self = shared_from_this(), poll, finish]() mutable {
      auto text = poll();
      asio::post(self->stream_.get_executor(), [finish, text = std::move(text)]() mutable { finish(std::move(text)); });
    });
  }
  void end_feed() {
    if (!feed_) return;
    feed_.reset();
    server_->feeds_open--;
    if (timer_) timer_->cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  void respond(ApiResponse r) {
    if (r.feed && r.status == 200) return start_feed(std::move(r));
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
    if (linger_) return linger();
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
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<ApiRequest> pending_;  // the admitted request while its body is read
  BodyLease lease_;                    // its share of the body budget
  std::unique_ptr<std::array<char, 4096>> drain_;
  std::shared_ptr<EventFeed> feed_;  // set while this connection carries a live response
  std::string feed_out_;
  std::optional<asio::steady_timer> timer_;
  std::chrono::steady_clock::time_point last_sent_;
  bool linger_ = false;
  static constexpr std::chrono::milliseconds kLinger{2000};
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
