#include "gateway/bearer/serial_bearer.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <stdexcept>

#include "gateway/bearer/stream_link.h"

namespace tinyedge::gateway {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;

struct SerialBearer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, Endpoint endpoint, Ingest& ingest, LinkAuthenticator& auth, Metrics& metrics, Logger& log)
      : io(io), endpoint(std::move(endpoint)), context{ingest, auth, metrics, log, "serial"} {}

  // Who is on the other end, for the failed-proof back-off: the peer's address on TCP; on a
  // unix socket or a serial line the endpoint itself is all there is.
  static std::string source_of(const tcp::socket& socket, const std::string&) {
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    return ec ? std::string("tcp:unknown") : "tcp:" + peer.address().to_string();
  }
  template <typename Stream>
  static std::string source_of(const Stream&, const std::string& name) {
    return name.substr(0, name.rfind('#'));
  }

  template <typename Stream>
  void run_link(Stream stream, const std::string& name, std::function<void()> on_closed = {}) {
    std::string source = source_of(stream, name);
    auto link =
        std::make_shared<StreamLink<Stream>>(std::move(stream), name, std::move(source), context, std::move(on_closed));
    links.push_back(link);
    std::erase_if(links, [](const std::weak_ptr<FramedLink>& w) { return w.expired(); });
    link->start();
  }

  template <typename Acceptor>
  void accept(std::shared_ptr<Acceptor> acceptor, std::string prefix) {
    acceptor->async_accept([self = shared_from_this(), acceptor, prefix](const boost::system::error_code& ec,
                                                                         typename Acceptor::protocol_type::socket s) {
      if (self->stopped) return;
      if (!ec)
        self->run_link(std::move(s), prefix + "#" + std::to_string(++self->link_counter));
      else
        self->context.log.warn("serial", "accept failed", {{"endpoint", prefix}, {"error", ec.message()}});
      self->accept(acceptor, prefix);
    });
  }

  void redial_later(const Endpoint& endpoint) {
    if (stopped) return;
    auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(1));
    timers.push_back(timer);
    timer->async_wait([self = shared_from_this(), endpoint, timer](const boost::system::error_code& ec) {
      std::erase(self->timers, timer);
      if (!ec && !self->stopped) self->dial(endpoint);
    });
  }

  void dial(const Endpoint& endpoint) {
    auto again = [self = shared_from_this(), endpoint] { self->redial_later(endpoint); };
    if (endpoint.kind == Endpoint::Kind::kTcpConnect) {
      auto socket = std::make_shared<tcp::socket>(io);
      const tcp::endpoint to(asio::ip::make_address(endpoint.host_or_path), endpoint.port);
      socket->async_connect(to,
                            [self = shared_from_this(), socket, endpoint, again](const boost::system::error_code& ec) {
                              if (self->stopped) return;
                              if (ec) return again();
                              self->run_link(std::move(*socket), endpoint.text, again);
                            });
    } else if (endpoint.kind == Endpoint::Kind::kUnixConnect) {
      auto socket = std::make_shared<unix_socket::socket>(io);
      socket->async_connect(unix_socket::endpoint(endpoint.host_or_path),
                            [self = shared_from_this(), socket, endpoint, again](const boost::system::error_code& ec) {
                              if (self->stopped) return;
                              if (ec) return again();
                              self->run_link(std::move(*socket), endpoint.text, again);
                            });
    } else if (endpoint.kind == Endpoint::Kind::kSerial) {
      asio::serial_port port(io);
      boost::system::error_code ec;
      port.open(endpoint.host_or_path, ec);
      if (ec) {
        context.log.warn("serial", "cannot open serial port; retrying",
                         {{"endpoint", endpoint.text}, {"error", ec.message()}});
        return again();
      }
      port.set_option(asio::serial_port::baud_rate(endpoint.baud), ec);
      port.set_option(asio::serial_port::character_size(8), ec);
      port.set_option(asio::serial_port::parity(asio::serial_port::parity::none), ec);
      port.set_option(asio::serial_port::stop_bits(asio::serial_port::stop_bits::one), ec);
      port.set_option(asio::serial_port::flow_control(asio::serial_port::flow_control::none), ec);
      run_link(std::move(port), endpoint.text, again);
    }
  }

  asio::io_context& io;
  Endpoint endpoint;
  FramedLink::Context context;
  bool stopped = false;
  uint64_t link_counter = 0;
  std::vector<std::shared_ptr<tcp::acceptor>> tcp_acceptors;
  std::vector<std::shared_ptr<unix_socket::acceptor>> unix_acceptors;
  std::vector<std::weak_ptr<FramedLink>> links;
  std::vector<std::shared_ptr<asio::steady_timer>> timers;
  std::vector<std::string> bound;
};

SerialBearer::SerialBearer(asio::io_context& io, Endpoint endpoint, Ingest& ingest, LinkAuthenticator& auth,
                           Metrics& metrics, Logger& log)
    : impl_(std::make_shared<Impl>(io, std::move(endpoint), ingest, auth, metrics, log)) {}

SerialBearer::~SerialBearer() { stop_intake(); }

const std::string& SerialBearer::name() const { return impl_->endpoint.text; }

void SerialBearer::start() {
  auto& impl = *impl_;
  const Endpoint& endpoint = impl.endpoint;
  auto& log = impl.context.log;
  try {
    switch (endpoint.kind) {
      case Endpoint::Kind::kTcpListen: {
        const tcp::endpoint at(asio::ip::make_address(endpoint.host_or_path), endpoint.port);
        auto acceptor = std::make_shared<tcp::acceptor>(impl.io, at, /*reuse_address=*/true);
        const auto local = acceptor->local_endpoint();
        const std::string name = "tcp-listen:" + local.address().to_string() + ":" + std::to_string(local.port());
        impl.bound.push_back(name);
        impl.tcp_acceptors.push_back(acceptor);
        impl_->accept(acceptor, name);
        log.info("serial", "listening", {{"endpoint", name}});
        break;
      }
      case Endpoint::Kind::kUnixListen: {
        // A socket file left by a previous run would make bind fail.
        std::error_code ignored;
        if (std::filesystem::is_socket(endpoint.host_or_path, ignored))
          std::filesystem::remove(endpoint.host_or_path, ignored);
        auto acceptor = std::make_shared<unix_socket::acceptor>(impl.io, unix_socket::endpoint(endpoint.host_or_path));
        impl.bound.push_back(endpoint.text);
        impl.unix_acceptors.push_back(acceptor);
        impl_->accept(acceptor, endpoint.text);
        log.info("serial", "listening", {{"endpoint", endpoint.text}});
        break;
      }
      case Endpoint::Kind::kTcpConnect:
      case Endpoint::Kind::kUnixConnect:
      case Endpoint::Kind::kSerial:
        impl_->dial(endpoint);
        break;
    }
  } catch (const boost::system::system_error& error) {
    throw std::runtime_error("bearer endpoint " + endpoint.text + ": " + error.code().message());
  }
}

void SerialBearer::stop_intake() {
  auto& impl = *impl_;
  if (impl.stopped) return;
  impl.stopped = true;
  boost::system::error_code ignored;
  for (auto& a : impl.tcp_acceptors) a->close(ignored);
  for (auto& a : impl.unix_acceptors) a->close(ignored);
  for (auto& t : impl.timers) t->cancel();
  for (auto& weak : impl.links) {
    if (auto link = weak.lock()) link->close();
  }
}

BearerStatus SerialBearer::status() const {
  BearerStatus status{impl_->endpoint.text, 0, 0, impl_->bound};
  for (const auto& weak : impl_->links) {
    auto link = weak.lock();
    if (!link || !link->is_open()) continue;
    ++status.links_open;
    if (!link->bound_node().empty()) ++status.nodes_bound;
  }
  return status;
}

}  // namespace tinyedge::gateway
