// One framed link to a node (a UART, qemu's serial socket, a BLE-UART bridge, a BLE GATT
// connection): bytes in are reassembled into frames (protocol/frame.h), downlinks go out as frames.
// What the bytes travel over is the subclass's business (StreamLink for byte streams, BleLink for
// GATT notifications and writes); this class holds what every such link must do alike.
//
// Nothing vouches for who is on the other end (no broker login), so a link starts unproven: it
// sends a LinkChallenge at once and stores, acks and routes nothing until the node answers with
// a LinkProof under its link key (bearer/link_auth.h). A wrong proof, or a claim on a node that is
// bound on another live link, is logged and closes the link. Once proven, the link is bound to
// that node and an uplink naming any other id is an identity mismatch and is dropped.
//
// Runs on the io_context thread, except send(), which may be called from any thread.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gateway/bearer/link_auth.h"
#include "gateway/core/downlink_sink.h"
#include "gateway/ingest/ingest.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace tinyedge::gateway {

class Link : public DownlinkSink {
 public:
  virtual void close() = 0;
  virtual bool is_open() const = 0;
};

class FramedLink : public Link, public std::enable_shared_from_this<FramedLink> {
 public:
  struct Context {
    Ingest& ingest;
    LinkAuthenticator& auth;
    Metrics& metrics;
    Logger& log;
    const char* area;  // log area: "serial", "ble"
    // An unproven link that delivers this many bad frames is closed (0: never). A radio link
    // holding a connection slot with noise must give it up; a serial line has nothing to free.
    uint32_t max_bad_frames_unproven = 0;
  };
  // `source` names the peer for the failed-proof back-off ("tcp:127.0.0.1", a socket path, a BLE
  // device address).
  FramedLink(boost::asio::any_io_executor executor, std::string name, std::string source, Context context);

  const std::string& bearer_name() const override { return name_; }
  const std::string& bound_node() const { return bound_; }
  bool is_open() const override { return open_; }
  // Frames `payload` and hands it to write_frame() on the io thread. Thread-safe.
  bool send(const std::string& node_id, std::span<const uint8_t> payload) override;
  // Closes the link from any thread.
  void close() override;

 protected:
  // Counts the link open and sends the first challenge; the subclass starts reading after this.
  void opened();
  // Bytes received, in whatever pieces the transport delivered them.
  void consume(std::span<const uint8_t> bytes);
  // The link is gone (read error, disconnect, close()): releases the node's binding. Idempotent.
  void shut(const std::string& why);
  // Writes one encoded frame (delimiter included); called on the io thread while open.
  virtual void write_frame(std::vector<uint8_t> frame) = 0;
  // Releases the transport (close the socket, disconnect the device); called once from shut().
  virtual void release_transport() = 0;
  // A reason to refuse this link's claim on `node` before its proof is even checked (a BLE device
  // claiming an id another device holds), or "" to go on.
  virtual std::string refuse_claim(const std::string& /*node*/) { return {}; }
  // A frame failed its CRC or encoding and was dropped (already counted and logged).
  virtual void bad_frame() {}
  // The link has proven and is bound to `node`.
  virtual void proven(const std::string& /*node*/) {}

  Context context_;

 private:
  using Clock = std::chrono::steady_clock;
  // An unproven link that has sent this many uplinks without a proof is closed: it is not a
  // node that answers challenges.
  static constexpr uint32_t kMaxUnprovenUplinks = 64;

  void unproven(std::span<const uint8_t> bytes);
  void challenge();

  boost::asio::any_io_executor executor_;
  std::string name_;
  std::string source_;
  std::string bound_;  // set once the link has proven its node
  bool open_ = false;
  LinkAuthenticator::Nonce nonce_{};
  Clock::time_point last_challenge_{};
  uint32_t unproven_uplinks_ = 0;
  uint32_t bad_frames_unproven_ = 0;
  protocol::StaticFrameDecoder<protocol::kMaxUplinkBytes> decoder_;
};

}  // namespace tinyedge::gateway
