// One byte-stream link to a node (UART, qemu's serial socket, a BLE-UART bridge): frames in,
// frames out (protocol/frame.h), one object per connection held alive by its own async chain.
// A link is bound to the first node id it speaks for; a different id later is an identity
// mismatch and is dropped.
#pragma once
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/bearer/router.h"
#include "gateway/ingest/ingest.h"
#include "protocol/frame.h"

namespace tinyedge::gateway {

class Link : public DownlinkSink {
 public:
  virtual void close() = 0;
};

template <typename Stream>
class StreamLink : public Link, public std::enable_shared_from_this<StreamLink<Stream>> {
 public:
  StreamLink(Stream stream, std::string name, Ingest& ingest, Metrics& metrics, Logger& log,
             std::function<void()> on_closed = {})
      : stream_(std::move(stream)), name_(std::move(name)), ingest_(ingest), metrics_(metrics), log_(log),
        on_closed_(std::move(on_closed)) {}

  void start() {
    metrics_.links_open.add();
    open_ = true;
    log_.info("serial", "link open", {{"link", name_}});
    read();
  }

  const std::string& bearer_name() const override { return name_; }
  const std::string& bound_node() const { return bound_; }

  bool send(const std::string&, std::span<const uint8_t> payload) override {
    std::vector<uint8_t> frame(protocol::max_encoded_frame_size(payload.size()));
    const auto encoded = protocol::encode_frame(payload, frame);
    if (encoded.status != protocol::FrameStatus::kOk) return false;
    frame.resize(encoded.size);
    boost::asio::post(stream_.get_executor(), [self = this->shared_from_this(), frame = std::move(frame)]() mutable {
      if (!self->open_) return;
      self->outbox_.push_back(std::move(frame));
      if (self->outbox_.size() == 1) self->write_next();
    });
    return open_;
  }

  void close() override {
    boost::asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->shut("closed by gateway"); });
  }

 private:
  void read() {
    stream_.async_read_some(boost::asio::buffer(buffer_),
                            [self = this->shared_from_this()](const boost::system::error_code& ec, size_t n) {
                              if (ec) return self->shut(ec.message());
                              self->consume(n);
                              self->read();
                            });
  }

  void consume(size_t n) {
    for (size_t i = 0; i < n && open_; ++i) {
      const auto status = decoder_.push(buffer_[i]);
      if (status == protocol::FrameStatus::kNeedMore) continue;
      if (status != protocol::FrameStatus::kOk) {
        if (status == protocol::FrameStatus::kOverflow) metrics_.oversized.add();
        ingest_.reject(name_, "bad frame", protocol::to_string(status));
        continue;
      }
      const auto check = ingest_.on_uplink(decoder_.payload(), bound_, this->shared_from_this());
      if (check.error == UplinkError::kOk && bound_.empty()) {
        bound_ = std::string(ingest_.last_node_id());
        log_.info("serial", "link bound to node", {{"link", name_}, {"node", bound_}});
      }
    }
  }

  void write_next() {
    boost::asio::async_write(stream_, boost::asio::buffer(outbox_.front()),
                             [self = this->shared_from_this()](const boost::system::error_code& ec, size_t) {
                               if (ec) return self->shut(ec.message());
                               self->outbox_.pop_front();
                               if (!self->outbox_.empty()) self->write_next();
                             });
  }

  void shut(const std::string& why) {
    if (!open_) return;
    open_ = false;
    boost::system::error_code ignored;
    stream_.close(ignored);
    outbox_.clear();
    metrics_.links_open.value.fetch_sub(1, std::memory_order_relaxed);
    log_.info("serial", "link closed", {{"link", name_}, {"node", bound_}, {"reason", why}});
    if (on_closed_) on_closed_();
  }

  Stream stream_;
  std::string name_;
  Ingest& ingest_;
  Metrics& metrics_;
  Logger& log_;
  std::function<void()> on_closed_;
  std::string bound_;
  bool open_ = false;
  uint8_t buffer_[1024];
  protocol::StaticFrameDecoder<protocol::kMaxUplinkBytes> decoder_;
  std::deque<std::vector<uint8_t>> outbox_;
};

}  // namespace tinyedge::gateway
