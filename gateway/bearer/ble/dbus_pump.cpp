#include "gateway/bearer/ble/dbus_pump.h"

#include <poll.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

namespace tinyedge::gateway::ble {

namespace asio = boost::asio;

// The descriptor is a dup: asio owns and closes its copy, sd-bus keeps its own.
DbusPump::DbusPump(asio::io_context& io, std::shared_ptr<sdbus::IConnection> connection)
    : io_(io), connection_(std::move(connection)), fd_(io, ::dup(connection_->getEventLoopPollData().fd)), timer_(io) {}

DbusPump::~DbusPump() { stop(); }

void DbusPump::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  fd_.cancel(ignored);
  timer_.cancel();
}

void DbusPump::kick() {
  if (stopped_ || kick_posted_) return;
  kick_posted_ = true;
  asio::post(io_, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    self->kick_posted_ = false;
    if (self->stopped_) return;
    // Bounded: a flood of signals cannot starve the rest of the io_context; what is left (sd-bus
    // may hold messages it already read, so the fd would not wake us) is taken on the next turn.
    bool more = true;
    for (int i = 0; i < 256 && (more = self->connection_->processPendingRequest()); ++i) {
    }
    if (more) return self->kick();
    self->arm();
  });
}

void DbusPump::arm() {
  if (stopped_) return;
  const auto poll = connection_->getEventLoopPollData();
  if (!waiting_read_) {
    waiting_read_ = true;
    fd_.async_wait(asio::posix::stream_descriptor::wait_read,
                   [weak = weak_from_this()](const boost::system::error_code& ec) {
                     auto self = weak.lock();
                     if (!self) return;
                     self->waiting_read_ = false;
                     if (!ec) self->kick();
                   });
  }
  if ((poll.events & POLLOUT) && !waiting_write_) {
    waiting_write_ = true;
    fd_.async_wait(asio::posix::stream_descriptor::wait_write,
                   [weak = weak_from_this()](const boost::system::error_code& ec) {
                     auto self = weak.lock();
                     if (!self) return;
                     self->waiting_write_ = false;
                     if (!ec) self->kick();
                   });
  }
  // Method-call timeouts live in sd-bus: wake up when the earliest one is due (at most 1 s apart,
  // so a missed edge can never stall the connection for long).
  auto wait = std::chrono::milliseconds(1000);
  if (const auto relative = poll.getRelativeTimeout(); relative) {
    wait =
        std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(*relative) + std::chrono::milliseconds(1));
  }
  timer_.expires_after(wait);
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->kick();
  });
}

}  // namespace tinyedge::gateway::ble
