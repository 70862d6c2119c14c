// Runs one sdbus-c++ connection on the gateway's io_context: no thread of its own, so every
// D-Bus reply and signal is handled on the io thread like every other bearer callback. Watches
// the connection's fd (read, and write while sd-bus has output queued) and its next timeout
// (method-call timeouts), and lets sd-bus process whatever is pending.
#pragma once
#include <sdbus-c++/IConnection.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

namespace tinyedge::gateway::ble {

class DbusPump : public std::enable_shared_from_this<DbusPump> {
 public:
  DbusPump(boost::asio::io_context& io, std::shared_ptr<sdbus::IConnection> connection);
  ~DbusPump();
  // Processes what is pending and re-arms the waits. Call after queueing calls too (sd-bus may
  // have output to flush).
  void kick();
  void stop();

 private:
  void arm();

  boost::asio::io_context& io_;
  std::shared_ptr<sdbus::IConnection> connection_;
  boost::asio::posix::stream_descriptor fd_;
  boost::asio::steady_timer timer_;
  bool waiting_read_ = false;
  bool waiting_write_ = false;
  bool kick_posted_ = false;
  bool stopped_ = false;
};

}  // namespace tinyedge::gateway::ble
