// The serial/BLE-bridge bearer over unix and TCP sockets: framed uplinks in, framed acks and
// downlinks out, links bound to their node, bad frames and impostors dropped.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "protocol/frame.h"
#include "tests/gateway/support/in_process_gateway.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/gateway/support/sim_node.h"

namespace tinyedge::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A node's end of a byte-stream link, with blocking I/O and a read timeout.
template <typename Socket>
class FramedPeer {
 public:
  explicit FramedPeer(Socket socket) : socket_(std::move(socket)) {
    timeval tv{0, 200000};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  // Writes the frame in `mtu`-byte fragments, like a BLE-UART bridge.
  void send(const std::vector<uint8_t>& payload, size_t mtu = 20) {
    std::vector<uint8_t> frame(protocol::max_encoded_frame_size(payload.size()));
    const auto encoded = protocol::encode_frame(payload, frame);
    ASSERT_EQ(encoded.status, protocol::FrameStatus::kOk);
    protocol::FrameFragmenter fragments({frame.data(), encoded.size}, mtu);
    while (!fragments.done()) {
      const auto piece = fragments.next();
      asio::write(socket_, asio::buffer(piece.data(), piece.size()));
    }
  }
  void send_raw(const std::vector<uint8_t>& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // Reads downlinks until `done` says stop or `timeout` passes.
  bool read_until(const std::function<bool(const tinyedge_v1_Downlink&)>& done, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    uint8_t byte;
    while (std::chrono::steady_clock::now() < until) {
      boost::system::error_code ec;
      const size_t n = socket_.read_some(asio::buffer(&byte, 1), ec);
      if (ec || n == 0) continue;
      if (decoder_.push(byte) != protocol::FrameStatus::kOk) continue;
      tinyedge_v1_Downlink downlink = tinyedge_v1_Downlink_init_zero;
      if (!protocol::decode_downlink(decoder_.payload(), downlink).ok) continue;
      if (done(downlink)) return true;
    }
    return false;
  }
  bool wait_ack(uint32_t boot, uint32_t through) {
    return read_until(
        [&](const tinyedge_v1_Downlink& d) {
          return d.which_payload == tinyedge_v1_Downlink_ack_tag && d.payload.ack.boot_id == boot &&
                 d.payload.ack.through_seq >= through;
        },
        5000ms);
  }

 private:
  Socket socket_;
  protocol::StaticFrameDecoder<protocol::kMaxDownlinkBytes> decoder_;
};

TEST(GatewaySerialBearer, UnixAndTcpLinksCarryUplinksAcksAndDownlinks) {
  const std::string dir = make_temp_dir("gw-serial");
  gateway::GatewayConfig config;
  config.data_dir = dir + "/data";
  config.mqtt.enabled = false;
  config.bearers = {"unix-listen:" + dir + "/node.sock", "tcp-listen:127.0.0.1:0"};
  InProcessGateway gw(config);
  const auto listening = gw.gateway().bearer_listening();
  ASSERT_EQ(listening.size(), 2u);
  const uint16_t port = static_cast<uint16_t>(std::stoi(listening[1].substr(listening[1].rfind(':') + 1)));
  ASSERT_NE(port, 0);

  asio::io_context io;
  asio::local::stream_protocol::socket unix_socket(io);
  unix_socket.connect(asio::local::stream_protocol::endpoint(dir + "/node.sock"));
  FramedPeer unix_peer(std::move(unix_socket));

  unix_peer.send(results_uplink("ser-1", 42, 1, 10));
  ASSERT_TRUE(unix_peer.wait_ack(42, 10)) << gw.log_text();

  // A corrupt frame (CRC broken) and an impostor on the bound link are dropped.
  std::vector<uint8_t> frame(protocol::max_encoded_frame_size(64));
  const auto good = results_uplink("ser-1", 42, 11, 2);
  const auto encoded = protocol::encode_frame(good, frame);
  frame.resize(encoded.size);
  frame[3] ^= 0x40;
  if (frame[3] == 0) frame[3] = 1;
  unix_peer.send_raw(frame);
  unix_peer.send(results_uplink("ser-2", 1, 1, 3));
  unix_peer.send(results_uplink("ser-1", 42, 11, 5));
  ASSERT_TRUE(unix_peer.wait_ack(42, 15)) << gw.log_text();
  EXPECT_EQ(gw.metrics().identity_mismatches.get(), 1u);
  EXPECT_GE(gw.metrics().decode_errors.get(), 1u);

  // Several TCP links at once, each its own node.
  std::vector<std::unique_ptr<FramedPeer<asio::ip::tcp::socket>>> peers;
  for (int i = 0; i < 5; ++i) {
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    peers.push_back(std::make_unique<FramedPeer<asio::ip::tcp::socket>>(std::move(s)));
  }
  for (int i = 0; i < 5; ++i) peers[i]->send(results_uplink("tcp-" + std::to_string(i), 9, 1, 16), 64);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(peers[i]->wait_ack(9, 16)) << "tcp link " << i;

  // A downlink for a serial node goes out over its link.
  tinyedge_v1_Downlink command = tinyedge_v1_Downlink_init_zero;
  command.which_payload = tinyedge_v1_Downlink_command_tag;
  command.payload.command.kind = tinyedge_v1_Command_Kind_SEND_TELEMETRY;
  ASSERT_TRUE(gw.gateway().send_downlink("ser-1", command));
  EXPECT_TRUE(unix_peer.read_until(
      [](const tinyedge_v1_Downlink& d) {
        return d.which_payload == tinyedge_v1_Downlink_command_tag &&
               d.payload.command.kind == tinyedge_v1_Command_Kind_SEND_TELEMETRY;
      },
      3000ms));
  EXPECT_FALSE(gw.gateway().send_downlink("never-seen", command));
  gw.stop();

  gateway::Query query(config.db_path());
  EXPECT_EQ(query.event_count(), 15u + 5 * 16);
  const auto node = query.node("ser-1");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->bearer.rfind("unix-listen:", 0), 0u) << node->bearer;
  EXPECT_FALSE(query.node("ser-2"));
}

}  // namespace
}  // namespace tinyedge::test
