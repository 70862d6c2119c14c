// A FramedLink over a byte stream (UART, qemu's serial socket, a BLE-UART bridge): one object per
// connection, held alive by its own async read chain; frames leave through an outbox written one
// at a time.
#pragma once
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/bearer/framed_link.h"

namespace tinyedge::gateway {

template <typename Stream>
class StreamLink final : public FramedLink {
 public:
  // `on_closed` runs once the link is shut (the dialler redials from there).
  StreamLink(Stream stream, std::string name, std::string source, Context context, std::function<void()> on_closed = {})
      : FramedLink(stream.get_executor(), std::move(name), std::move(source), context),
        stream_(std::move(stream)),
        on_closed_(std::move(on_closed)) {}

  void start() {
    opened();
    read();
  }

 private:
  std::shared_ptr<StreamLink> self() { return std::static_pointer_cast<StreamLink>(shared_from_this()); }

  void read() {
    stream_.async_read_some(boost::asio::buffer(buffer_),
                            [self = self()](const boost::system::error_code& ec, size_t n) {
                              if (ec) return self->shut(ec.message());
                              self->consume({self->buffer_, n});
                              if (self->is_open()) self->read();
                            });
  }

  void write_frame(std::vector<uint8_t> frame) override {
    outbox_.push_back(std::move(frame));
    if (outbox_.size() == 1) write_next();
  }

  void write_next() {
    boost::asio::async_write(stream_, boost::asio::buffer(outbox_.front()),
                             [self = self()](const boost::system::error_code& ec, size_t) {
                               // Shut meanwhile (a refused link): the outbox is no longer ours to walk.
                               if (!self->is_open()) return;
                               if (ec) return self->shut(ec.message());
                               self->outbox_.pop_front();
                               if (!self->outbox_.empty()) self->write_next();
                             });
  }

  void release_transport() override {
    boost::system::error_code ignored;
    stream_.close(ignored);
    // The outbox stays as it is: a write in flight still points at its front until its handler
    // runs; the frames go with the link.
    if (on_closed_) on_closed_();
  }

  Stream stream_;
  std::function<void()> on_closed_;
  uint8_t buffer_[1024];
  std::deque<std::vector<uint8_t>> outbox_;
};

}  // namespace tinyedge::gateway
