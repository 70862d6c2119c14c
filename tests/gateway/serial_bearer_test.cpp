// The serial/BLE-bridge bearer over unix and TCP sockets: framed uplinks in, framed acks and
// downlinks out, links bound to their node only after it proved itself with its link key, bad
// frames, impostors and second claims on a bound node dropped.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "node_firmware/app/frame_bearer.h"
#include "node_firmware/app/link_key_prover.h"
#include "node_firmware/app/node.h"
#include "node_firmware/ports/host/host_platform.h"
#include "ota/link_proof.h"
#include "protocol/frame.h"
#include "gateway/store/sqlite/sqlite_query.h"
#include "tests/gateway/support/in_process_gateway.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/gateway/support/sim_node.h"
#include "tests/node/fakes.h"

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
      // recv, not asio's read_some: asio waits out SO_RCVTIMEO's EAGAIN in poll() forever.
      if (::recv(socket_.native_handle(), &byte, 1, 0) != 1) continue;
      if (decoder_.push(byte) != protocol::FrameStatus::kOk) continue;
      tinyedge_v1_Downlink downlink = tinyedge_v1_Downlink_init_zero;
      if (!protocol::decode_downlink(decoder_.payload(), downlink).ok) continue;
      if (done(downlink)) return true;
    }
    return false;
  }
  // Waits for the gateway's LinkChallenge and answers it with `key`'s proof for (node, boot).
  void prove(const std::string& node, uint32_t boot, const ota::LinkKey& key) {
    std::vector<uint8_t> nonce;
    ASSERT_TRUE(read_until(
        [&](const tinyedge_v1_Downlink& d) {
          if (d.which_payload != tinyedge_v1_Downlink_link_challenge_tag) return false;
          nonce.assign(d.payload.link_challenge.nonce.bytes,
                       d.payload.link_challenge.nonce.bytes + d.payload.link_challenge.nonce.size);
          return true;
        },
        3000ms))
        << "the gateway sends a LinkChallenge when a link opens";
    send(link_proof_uplink(node, boot, key, nonce));
  }
  static std::vector<uint8_t> link_proof_uplink(const std::string& node, uint32_t boot, const ota::LinkKey& key,
                                                const std::vector<uint8_t>& nonce) {
    tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
    up.boot_id = boot;
    std::snprintf(up.node_id, sizeof up.node_id, "%s", node.c_str());
    up.which_payload = tinyedge_v1_Uplink_link_proof_tag;
    up.payload.link_proof.mac.size = ota::kLinkProofBytes;
    EXPECT_TRUE(ota::link_proof(key, nonce, node, boot,
                                std::span<uint8_t, ota::kLinkProofBytes>(up.payload.link_proof.mac.bytes, 32)));
    std::vector<uint8_t> bytes(protocol::kMaxUplinkBytes);
    bytes.resize(protocol::encode_uplink(up, bytes).size);
    return bytes;
  }
  // True once the gateway has closed the link (EOF).
  bool closed_by_gateway(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    uint8_t byte;
    while (std::chrono::steady_clock::now() < until) {
      const ssize_t n = ::recv(socket_.native_handle(), &byte, 1, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
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

// A node's link key, derived from its id so each test node has its own; written where the gateway
// reads them (link_keys/<node>.key).
ota::LinkKey key_for(const std::string& node) {
  ota::LinkKey key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(node[i % node.size()] * 31 + i);
  return key;
}

void provision(const std::string& key_dir, const std::string& node) {
  std::filesystem::create_directories(key_dir);
  std::ofstream out(key_dir + "/" + node + ".key");
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : key_for(node)) out << kDigits[b >> 4] << kDigits[b & 15];
  out << "\n";
}

gateway::GatewayConfig serial_config(const std::string& dir, std::vector<std::string> bearers,
                                     const std::vector<std::string>& nodes) {
  gateway::GatewayConfig config;
  config.data_dir = dir + "/data";
  config.mqtt.enabled = false;
  config.bearers = std::move(bearers);
  config.link_keys = dir + "/link-keys";
  std::filesystem::create_directories(config.link_keys);
  for (const auto& node : nodes) provision(config.link_keys, node);
  return config;
}

uint16_t tcp_port(InProcessGateway& gw) {
  for (const auto& name : gw.gateway().bearer_listening()) {
    if (name.rfind("tcp-listen:", 0) == 0) return static_cast<uint16_t>(std::stoi(name.substr(name.rfind(':') + 1)));
  }
  return 0;
}

asio::ip::tcp::socket tcp_connect(asio::io_context& io, uint16_t port) {
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  return s;
}
// Built in place: a peer holds a frame decoder that points into itself, so it must not move.
using TcpPeer = FramedPeer<asio::ip::tcp::socket>;

TEST(GatewaySerialBearer, UnixAndTcpLinksCarryUplinksAcksAndDownlinks) {
  const std::string dir = make_temp_dir("gw-serial");
  const gateway::GatewayConfig config =
      serial_config(dir, {"unix-listen:" + dir + "/node.sock", "tcp-listen:127.0.0.1:0"},
                    {"ser-1", "ser-2", "tcp-0", "tcp-1", "tcp-2", "tcp-3", "tcp-4"});
  InProcessGateway gw(config);
  const auto listening = gw.gateway().bearer_listening();
  ASSERT_EQ(listening.size(), 2u);
  const uint16_t port = static_cast<uint16_t>(std::stoi(listening[1].substr(listening[1].rfind(':') + 1)));
  ASSERT_NE(port, 0);

  asio::io_context io;
  asio::local::stream_protocol::socket unix_socket(io);
  unix_socket.connect(asio::local::stream_protocol::endpoint(dir + "/node.sock"));
  FramedPeer unix_peer(std::move(unix_socket));

  unix_peer.prove("ser-1", 42, key_for("ser-1"));
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
  for (int i = 0; i < 5; ++i) {
    const std::string node = "tcp-" + std::to_string(i);
    peers[i]->prove(node, 9, key_for(node));
    peers[i]->send(results_uplink(node, 9, 1, 16), 64);
  }
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

  gateway::SqliteQuery query(config.db_path());
  EXPECT_EQ(query.event_count(), 15u + 5 * 16);
  const auto node = query.node("ser-1");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->bearer.rfind("unix-listen:", 0), 0u) << node->bearer;
  EXPECT_FALSE(query.node("ser-2"));
}

// A node that heard the challenge twice answers twice: on the bound link the second LinkProof is
// neither stored, nor an error, nor news for the OTA server and rollout engine (ingest drops it;
// the link no longer decodes every frame first to skip it).
TEST(GatewaySerialBearer, ARepeatedLinkProofOnABoundLinkChangesNothing) {
  const std::string dir = make_temp_dir("gw-serial-reproof");
  const gateway::GatewayConfig config = serial_config(dir, {"tcp-listen:127.0.0.1:0"}, {"re-1"});
  InProcessGateway gw(config);
  struct Seen final : gateway::UplinkObserver {
    void on_uplink(const gateway::UplinkContext& context, const tinyedge_v1_Uplink&) override {
      if (context.kind == gateway::UplinkKind::kLinkProof) ++link_proofs;
      ++all;
    }
    std::atomic<int> link_proofs{0}, all{0};
  };
  auto seen = std::make_shared<Seen>();
  gw.gateway().add_observer(seen);
  asio::io_context io;
  TcpPeer peer(tcp_connect(io, tcp_port(gw)));
  std::vector<uint8_t> nonce;
  ASSERT_TRUE(peer.read_until(
      [&](const tinyedge_v1_Downlink& d) {
        if (d.which_payload != tinyedge_v1_Downlink_link_challenge_tag) return false;
        nonce.assign(d.payload.link_challenge.nonce.bytes,
                     d.payload.link_challenge.nonce.bytes + d.payload.link_challenge.nonce.size);
        return true;
      },
      3000ms));
  const auto proof = TcpPeer::link_proof_uplink("re-1", 5, key_for("re-1"), nonce);
  peer.send(proof);
  peer.send(proof);
  peer.send(results_uplink("re-1", 5, 1, 4));
  ASSERT_TRUE(peer.wait_ack(5, 4)) << gw.log_text();
  EXPECT_EQ(seen->link_proofs.load(), 0) << "observers were handed a LinkProof";
  EXPECT_EQ(gw.metrics().decode_errors.get(), 0u) << gw.log_text();
  EXPECT_EQ(gw.metrics().identity_mismatches.get(), 0u);
  EXPECT_EQ(gw.metrics().links_proven.get(), 1u);
  EXPECT_EQ(gw.log_lines_with("link closed"), 0u) << gw.log_text();
  gw.stop();
  gateway::SqliteQuery query(config.db_path());
  EXPECT_EQ(query.event_count(), 4u);
}

// Failure 3 of issue 17: a plain TCP client that says it is n1 gets nothing: nothing stored, no
// Ack, no downlink, and the log says why. A wrong proof closes its link and a source that keeps
// failing is locked out.
TEST(GatewaySerialBearer, AnUnprovenLinkClaimingANodeGetsNothingStoredAckedOrRouted) {
  const std::string dir = make_temp_dir("gw-serial-impostor");
  const gateway::GatewayConfig config = serial_config(dir, {"tcp-listen:127.0.0.1:0"}, {"n1"});
  InProcessGateway gw(config);
  asio::io_context io;
  TcpPeer impostor(tcp_connect(io, tcp_port(gw)));

  impostor.send(results_uplink("n1", 7, 1, 1));
  impostor.send(results_uplink("n1", 7, 2, 1));
  impostor.send(results_uplink("n1", 7, 3, 1));
  EXPECT_FALSE(impostor.wait_ack(7, 1)) << "an unproven link was acked:\n" << gw.log_text();
  ASSERT_TRUE(gw.wait_log("link has not proven its node", 1, 3000)) << gw.log_text();
  EXPECT_EQ(gw.metrics().unproven_uplinks.get(), 3u);
  EXPECT_EQ(gw.metrics().uplinks_in.get(), 0u) << "nothing from an unproven link reaches ingest";

  tinyedge_v1_Downlink command = tinyedge_v1_Downlink_init_zero;
  command.which_payload = tinyedge_v1_Downlink_command_tag;
  command.payload.command.kind = tinyedge_v1_Command_Kind_REBOOT;
  EXPECT_FALSE(gw.gateway().send_downlink("n1", command)) << "n1's downlinks must not route to an unproven link";
  EXPECT_FALSE(impostor.read_until(
      [](const tinyedge_v1_Downlink& d) { return d.which_payload == tinyedge_v1_Downlink_command_tag; }, 500ms));

  // A proof made with some other key: logged, counted, link closed.
  ota::LinkKey wrong = key_for("n1");
  wrong[0] ^= 1;
  impostor.send(TcpPeer::link_proof_uplink("n1", 7, wrong, std::vector<uint8_t>(16, 0)));
  EXPECT_TRUE(impostor.closed_by_gateway(3000ms)) << gw.log_text();
  EXPECT_TRUE(gw.wait_log("link proof failed", 1, 3000)) << gw.log_text();
  EXPECT_EQ(gw.log_lines_with("proof does not match the node's link key"), 1u) << gw.log_text();
  EXPECT_EQ(gw.metrics().link_proofs_failed.get(), 1u);

  // Straight back with another guess: refused unchecked while the source is locked out.
  TcpPeer again(tcp_connect(io, tcp_port(gw)));
  again.send(TcpPeer::link_proof_uplink("n1", 7, wrong, std::vector<uint8_t>(16, 0)));
  EXPECT_TRUE(again.closed_by_gateway(3000ms));
  EXPECT_TRUE(gw.wait_log("too many failed proofs from this source", 1, 3000)) << gw.log_text();

  // A node id with no key file is refused too, and says so.
  std::this_thread::sleep_for(2100ms);  // the second failure's lockout (2 s) runs out
  TcpPeer keyless(tcp_connect(io, tcp_port(gw)));
  keyless.prove("n9", 1, key_for("n9"));
  EXPECT_TRUE(keyless.closed_by_gateway(3000ms));
  EXPECT_TRUE(gw.wait_log("no link key for this node", 1, 3000)) << gw.log_text();
  gw.stop();

  gateway::SqliteQuery query(config.db_path());
  EXPECT_EQ(query.event_count(), 0u) << "results from an unproven link were stored";
  EXPECT_FALSE(query.node("n1")) << "an unproven link created node n1";
  EXPECT_FALSE(query.node("n9"));
}

// A link that claims a node already bound on another live link is refused, even with the right
// key; the first link carries on, and once it closes the node may bind again.
TEST(GatewaySerialBearer, ASecondLinkClaimingABoundNodeIsRefused) {
  const std::string dir = make_temp_dir("gw-serial-second");
  const gateway::GatewayConfig config = serial_config(dir, {"tcp-listen:127.0.0.1:0"}, {"n1"});
  InProcessGateway gw(config);
  asio::io_context io;
  auto first = std::make_unique<TcpPeer>(tcp_connect(io, tcp_port(gw)));
  first->prove("n1", 5, key_for("n1"));
  first->send(results_uplink("n1", 5, 1, 4));
  ASSERT_TRUE(first->wait_ack(5, 4)) << gw.log_text();

  TcpPeer plain(tcp_connect(io, tcp_port(gw)));  // no key at all: refused at its first claim
  plain.send(results_uplink("n1", 5, 5, 4));
  EXPECT_TRUE(plain.closed_by_gateway(3000ms)) << gw.log_text();
  TcpPeer keyed(tcp_connect(io, tcp_port(gw)));  // the right key does not let a second link take over
  keyed.prove("n1", 6, key_for("n1"));
  EXPECT_TRUE(keyed.closed_by_gateway(3000ms)) << gw.log_text();
  EXPECT_EQ(gw.log_lines_with("msg=\"link refused\" link="), 2u) << gw.log_text();
  EXPECT_EQ(gw.log_lines_with("claimed_node=n1 reason=\"node already bound on another live link\""), 2u)
      << gw.log_text();
  EXPECT_EQ(gw.metrics().links_refused.get(), 2u);

  first->send(results_uplink("n1", 5, 5, 2));
  EXPECT_TRUE(first->wait_ack(5, 6)) << "the bound link keeps working";
  first.reset();  // n1's link closes...
  ASSERT_TRUE(gw.wait_log("link closed", 3, 3000)) << gw.log_text();
  TcpPeer later(tcp_connect(io, tcp_port(gw)));  // ...and n1 may bind again
  later.prove("n1", 7, key_for("n1"));
  later.send(results_uplink("n1", 7, 1, 3));
  EXPECT_TRUE(later.wait_ack(7, 3)) << gw.log_text();
  gw.stop();
  gateway::SqliteQuery query(config.db_path());
  EXPECT_EQ(query.event_count(), 4u + 2 + 3);
}

// The node's own byte stream over a TCP socket (what a UART or a BLE-UART bridge is to the MCU).
class SocketStream final : public app::ByteStream {
 public:
  explicit SocketStream(asio::ip::tcp::socket& socket) : socket_(socket) { socket_.non_blocking(true); }
  void write(std::span<const uint8_t> bytes) override {
    size_t done = 0;
    while (done < bytes.size()) {
      boost::system::error_code ec;
      done += socket_.write_some(asio::buffer(bytes.data() + done, bytes.size() - done), ec);
      if (ec && ec != asio::error::would_block) return;
    }
  }
  bool read(uint8_t& byte) override {
    boost::system::error_code ec;
    return socket_.read_some(asio::buffer(&byte, 1), ec) == 1 && !ec;
  }

 private:
  asio::ip::tcp::socket& socket_;
};

// The portable node app (the firmware's code) with its link key, over a real socket to the real
// gateway: it answers the challenge, its results are stored and acked, and its ring drains.
TEST(GatewaySerialBearer, TheNodeAppWithItsLinkKeyWorksEndToEnd) {
  const std::string dir = make_temp_dir("gw-serial-node");
  const gateway::GatewayConfig config = serial_config(dir, {"tcp-listen:127.0.0.1:0"}, {"m4-1"});
  InProcessGateway gw(config);
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), tcp_port(gw)});
  SocketStream stream(socket);
  uint8_t frame_tx[protocol::max_encoded_frame_size(protocol::kMaxUplinkBytes)];
  protocol::StaticFrameDecoder<protocol::kMaxDownlinkBytes> decoder;
  app::FrameBearer bearer(stream, frame_tx, decoder);
  host::HostPlatform platform(4096);
  app::testing::CountingSensor sensor;
  app::testing::FakeEngine engine;
  std::vector<app::StoredResult> storage(64);
  app::ResultRing ring(storage);
  std::vector<uint8_t> tx(protocol::kMaxUplinkBytes);
  app::NodeConfig node_config;
  node_config.node_id = "m4-1";
  node_config.hardware = "test";
  node_config.boot_id = 77;
  node_config.sample_interval_ms = 20;
  node_config.report_interval_ms = 20;
  node_config.ack_timeout_ms = 500;
  app::Node node(node_config, platform, sensor, bearer, engine, ring, tx, {});
  const ota::LinkKey key = key_for("m4-1");
  app::LinkKeyProver prover(key);
  node.set_link_prover(&prover);

  const auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until && node.counters().next_seq <= 20) {
    node.step();
    std::this_thread::sleep_for(2ms);
  }
  node.set_sampling(false);
  while (std::chrono::steady_clock::now() < until && ring.size() > 0) {
    node.step();
    std::this_thread::sleep_for(2ms);
  }
  const uint32_t produced = node.counters().next_seq - 1;
  EXPECT_EQ(node.counters().link_proofs, 1u) << gw.log_text();
  EXPECT_EQ(ring.size(), 0u) << "results still unacked:\n" << gw.log_text();
  EXPECT_EQ(gw.log_lines_with("link proven and bound to node"), 1u) << gw.log_text();
  EXPECT_EQ(gw.metrics().link_proofs_failed.get(), 0u);
  gw.stop();
  gateway::SqliteQuery query(config.db_path());
  EXPECT_EQ(query.event_count(), produced);
  const auto stored = query.node("m4-1");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->bearer.rfind("tcp-listen:", 0), 0u) << stored->bearer;
}

// Without a key directory the serial bearer does not start: it would have nothing to check.
TEST(GatewaySerialBearer, BearersWithoutLinkKeysAreAConfigError) {
  const std::string dir = make_temp_dir("gw-serial-nokeys");
  gateway::GatewayConfig config = serial_config(dir, {"tcp-listen:127.0.0.1:0"}, {});
  config.link_keys.clear();
  try {
    InProcessGateway gw(config);
    FAIL() << "a gateway with bearers and no link_keys started";
  } catch (const gateway::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("link_keys"), std::string::npos) << error.what();
  }
  config.link_keys = dir + "/absent";
  EXPECT_THROW(InProcessGateway gw(config), gateway::ConfigError);
}

}  // namespace
}  // namespace tinyedge::test
