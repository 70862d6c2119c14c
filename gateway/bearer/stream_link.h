// One byte-stream link to a node (UART, qemu's serial socket, a BLE-UART bridge): frames in,
// frames out (protocol/frame.h), one object per connection held alive by its own async chain.
//
// Nothing vouches for who is on the other end (no broker login), so a link starts unproven: it
// sends a LinkChallenge at once and stores, acks and routes nothing until the node answers with
// a LinkProof under its link key (bearer/link_auth.h). A wrong proof, or a claim on a node that is
// bound on another live link, is logged and closes the link. Once proven, the link is bound to
// that node and an uplink naming any other id is an identity mismatch and is dropped.
#pragma once
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/bearer/link_auth.h"
#include "gateway/bearer/router.h"
#include "gateway/ingest/ingest.h"
#include "protocol/frame.h"
#include "protocol/topics.h"

namespace tinyedge::gateway {

class Link : public DownlinkSink {
 public:
  virtual void close() = 0;
  virtual bool is_open() const = 0;
};

template <typename Stream>
class StreamLink : public Link, public std::enable_shared_from_this<StreamLink<Stream>> {
 public:
  // `source` names the peer for the failed-proof back-off ("tcp:127.0.0.1", the socket path).
  StreamLink(Stream stream, std::string name, std::string source, Ingest& ingest, LinkAuthenticator& auth,
             Metrics& metrics, Logger& log, std::function<void()> on_closed = {})
      : stream_(std::move(stream)),
        name_(std::move(name)),
        source_(std::move(source)),
        ingest_(ingest),
        auth_(auth),
        metrics_(metrics),
        log_(log),
        on_closed_(std::move(on_closed)) {}

  void start() {
    metrics_.links_open.add();
    open_ = true;
    nonce_ = auth_.new_nonce();
    log_.info("serial", "link open; challenge sent", {{"link", name_}});
    challenge();
    read();
  }

  const std::string& bearer_name() const override { return name_; }
  const std::string& bound_node() const { return bound_; }
  bool is_open() const override { return open_; }

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
  using Clock = std::chrono::steady_clock;
  // An unproven link that has sent this many uplinks without a proof is closed: it is not a
  // node that answers challenges.
  static constexpr uint32_t kMaxUnprovenUplinks = 64;

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
      if (bound_.empty()) {
        unproven(decoder_.payload());
        continue;
      }
      // A second answer to a challenge (the node heard it twice) says nothing new.
      if (protocol::decode_uplink(decoder_.payload(), uplink_).ok &&
          uplink_.which_payload == tinyedge_v1_Uplink_link_proof_tag) {
        continue;
      }
      ingest_.on_uplink(decoder_.payload(), bound_, this->shared_from_this());
    }
  }

  // A frame from a link that has not proven its node: only a LinkProof can change that.
  void unproven(std::span<const uint8_t> bytes) {
    // The ingest checks first: an id the link cannot even claim (a NUL inside, bad text) is refused
    // as bad input rather than cut short and tried as another node's.
    if (ingest_.check(bytes, {}, name_).error != UplinkError::kOk) return;
    const tinyedge_v1_Uplink& uplink = ingest_.last_uplink();
    const std::string node(ingest_.last_node_id());
    if (auth_.bound_elsewhere(node, this)) {
      metrics_.links_refused.add();
      log_.warn("serial", "link refused",
                {{"link", name_},
                 {"claimed_node", node},
                 {"reason", LinkAuthenticator::to_string(LinkAuthenticator::Verdict::kAlreadyBound)}});
      return shut("refused: node already bound on another live link");
    }
    if (uplink.which_payload != tinyedge_v1_Uplink_link_proof_tag) {
      metrics_.unproven_uplinks.add();
      if (unproven_uplinks_++ == 0) {
        log_.warn("serial", "uplink dropped: link has not proven its node (no link proof yet)",
                  {{"link", name_}, {"claimed_node", node}});
      }
      if (unproven_uplinks_ >= kMaxUnprovenUplinks)
        return shut("no link proof after " + std::to_string(unproven_uplinks_) + " uplinks");
      // The node may have missed the first challenge (it booted later, the line was noisy).
      if (Clock::now() - last_challenge_ >= std::chrono::seconds(1)) challenge();
      return;
    }
    const auto& mac = uplink.payload.link_proof.mac;
    const auto outcome =
        auth_.prove(source_, node, uplink.boot_id, nonce_, {mac.bytes, mac.size}, this->shared_from_this());
    if (outcome.verdict != LinkAuthenticator::Verdict::kProven) {
      log_.warn("serial", "link proof failed; link closed",
                {{"link", name_}, {"source", source_}, {"claimed_node", node}, {"reason", outcome.reason}});
      return shut("link proof failed");
    }
    bound_ = node;
    log_.info("serial", "link proven and bound to node",
              {{"link", name_}, {"node", bound_}, {"boot_id", uplink.boot_id}});
  }

  void challenge() {
    last_challenge_ = Clock::now();
    tinyedge_v1_Downlink downlink = tinyedge_v1_Downlink_init_zero;
    downlink.which_payload = tinyedge_v1_Downlink_link_challenge_tag;
    auto& nonce = downlink.payload.link_challenge.nonce;
    static_assert(sizeof nonce.bytes >= std::tuple_size_v<LinkAuthenticator::Nonce>);
    std::copy(nonce_.begin(), nonce_.end(), nonce.bytes);
    nonce.size = static_cast<pb_size_t>(nonce_.size());
    uint8_t payload[64];
    const auto encoded = protocol::encode_downlink(downlink, payload);
    if (encoded.ok) send({}, {payload, encoded.size});
  }

  void write_next() {
    boost::asio::async_write(stream_, boost::asio::buffer(outbox_.front()),
                             [self = this->shared_from_this()](const boost::system::error_code& ec, size_t) {
                               // Shut meanwhile (a refused link): the outbox is no longer ours to walk.
                               if (!self->open_) return;
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
    // The outbox stays as it is: a write in flight still points at its front until its handler
    // runs; the frames go with the link.
    metrics_.links_open.value.fetch_sub(1, std::memory_order_relaxed);
    if (!bound_.empty()) auth_.release(bound_, this);
    log_.info("serial", "link closed", {{"link", name_}, {"node", bound_}, {"reason", why}});
    if (on_closed_) on_closed_();
  }

  Stream stream_;
  std::string name_;
  std::string source_;
  Ingest& ingest_;
  LinkAuthenticator& auth_;
  Metrics& metrics_;
  Logger& log_;
  std::function<void()> on_closed_;
  std::string bound_;  // set once the link has proven its node
  bool open_ = false;
  LinkAuthenticator::Nonce nonce_{};
  Clock::time_point last_challenge_{};
  uint32_t unproven_uplinks_ = 0;
  uint8_t buffer_[1024];
  protocol::StaticFrameDecoder<protocol::kMaxUplinkBytes> decoder_;
  tinyedge_v1_Uplink uplink_{};
  std::deque<std::vector<uint8_t>> outbox_;
};

}  // namespace tinyedge::gateway
