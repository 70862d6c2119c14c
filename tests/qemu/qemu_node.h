// Test harness for the MPS2 firmware: boots an image in qemu-system-arm (mps2-an386 Cortex-M4 or
// mps2-an505 Cortex-M33, -icount shift=0) with UART0 on a TCP socket the test listens on, and speaks frames over it.
#pragma once
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "node_firmware/app/synthetic_sensor.h"
#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"
#include "ota/link_proof.h"
#include "protocol/codec.h"
#include "protocol/frame.h"
#include "tests/node/process.h"

namespace tinyedge::qemu_test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

inline std::optional<std::string> find_qemu() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path p = fs::path(dir) / "qemu-system-arm";
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return std::nullopt;
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The host runtime holding a model with the firmware's first input (synthetic sample 0 of seed 1).
struct FirstSample {
  explicit FirstSample(const std::vector<uint8_t>& tem) : blob(tem) {
    EXPECT_EQ(runtime::Model::load(blob, model), runtime::Status::kOk);
    arena_words.resize((model.arena_bytes() + 3) / 4 + 1);
    EXPECT_EQ(interpreter.init(model, {reinterpret_cast<uint8_t*>(arena_words.data()), arena_words.size() * 4}),
              runtime::Status::kOk);
    app::synthesize_sample(/*seed=*/1, /*index=*/0, interpreter.input());
  }
  std::vector<uint8_t> blob;  // the model reads its weights in place
  runtime::Model model;
  std::vector<uint32_t> arena_words;
  runtime::Interpreter interpreter;
};

class QemuNode {
 public:
  // `extra`: more qemu options (a second -serial, -append) placed before -kernel.
  QemuNode(const std::string& qemu, const std::string& elf, const fs::path& dir,
           const std::string& machine = "mps2-an386", const std::vector<std::string>& extra = {})
      : log_(dir / "qemu.log") {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 1);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    const std::string port = std::to_string(ntohs(addr.sin_port));
    // QEMU connects to us, so there is no race for the port.
    std::vector<std::string> argv{qemu,
                                  "-M",
                                  machine,
                                  "-display",
                                  "none",
                                  "-monitor",
                                  "none",
                                  "-icount",
                                  "shift=0",
                                  "-semihosting-config",
                                  "enable=on,target=native",
                                  "-chardev",
                                  "socket,id=uart0,host=127.0.0.1,port=" + port,
                                  "-serial",
                                  "chardev:uart0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("-kernel");
    argv.push_back(elf);
    qemu_ = testing::ChildProcess(argv, log_.string());
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 10000) == 1) conn_fd_ = ::accept(listen_fd_, nullptr, nullptr);
  }
  ~QemuNode() {
    if (conn_fd_ >= 0) ::close(conn_fd_);
    ::close(listen_fd_);
  }
  bool connected() const { return conn_fd_ >= 0; }

  // Next uplink from the UART, or nullopt at the deadline.
  std::optional<tinyedge_v1_Uplink> next_uplink(Clock::time_point deadline) {
    for (;;) {
      while (pos_ < pending_.size()) {
        const auto status = decoder_.push(pending_[pos_++]);
        if (status == protocol::FrameStatus::kNeedMore) continue;
        if (status != protocol::FrameStatus::kOk) {
          ++bad_frames;
          continue;
        }
        tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
        if (!protocol::decode_uplink(decoder_.payload(), up).ok) {
          ++bad_frames;
          continue;
        }
        return up;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{conn_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) != 1) return std::nullopt;
      uint8_t buf[512];
      const ssize_t n = ::read(conn_fd_, buf, sizeof(buf));
      if (n <= 0) return std::nullopt;
      pending_.assign(buf, buf + n);
      pos_ = 0;
    }
  }

  void send(const tinyedge_v1_Downlink& down) {
    uint8_t payload[protocol::kMaxDownlinkBytes];
    const auto enc = protocol::encode_downlink(down, payload);
    ASSERT_TRUE(enc.ok);
    uint8_t frame[protocol::max_encoded_frame_size(protocol::kMaxDownlinkBytes)];
    const auto f = protocol::encode_frame({payload, enc.size}, frame);
    ASSERT_EQ(f.status, protocol::FrameStatus::kOk);
    ASSERT_EQ(::write(conn_fd_, frame, f.size), static_cast<ssize_t>(f.size));
  }

  // Does what the gateway's serial bearer does when a link opens: sends a LinkChallenge and waits
  // for the node's LinkProof, which must hold under the link key in `key_file` for `node_id`.
  // Uplinks before the proof are dropped, as the gateway drops them; returns the proof's boot id.
  std::optional<uint32_t> prove_link(const std::string& key_file, const std::string& node_id,
                                     Clock::time_point deadline) {
    ota::LinkKey key{};
    const std::string text = read_text(key_file);
    if (!ota::parse_link_key(text, key)) {
      ADD_FAILURE() << key_file << " is not a link key (64 hex digits)";
      return std::nullopt;
    }
    std::vector<uint8_t> nonce(ota::kLinkNonceBytes);
    for (size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<uint8_t>(::getpid() * 7 + i * 13);
    tinyedge_v1_Downlink challenge = tinyedge_v1_Downlink_init_zero;
    challenge.which_payload = tinyedge_v1_Downlink_link_challenge_tag;
    challenge.payload.link_challenge.nonce.size = static_cast<pb_size_t>(nonce.size());
    std::copy(nonce.begin(), nonce.end(), challenge.payload.link_challenge.nonce.bytes);
    send(challenge);
    while (auto up = next_uplink(deadline)) {
      if (up->which_payload != tinyedge_v1_Uplink_link_proof_tag) continue;
      EXPECT_EQ(std::string(up->node_id), node_id) << "the image proves another node id";
      const auto& mac = up->payload.link_proof.mac;
      EXPECT_TRUE(ota::link_proof_valid(key, nonce, node_id, up->boot_id, {mac.bytes, mac.size}))
          << "the image's LinkProof does not hold under " << key_file;
      ota::LinkKey other = key;
      other[0] ^= 1;
      EXPECT_FALSE(ota::link_proof_valid(other, nonce, node_id, up->boot_id, {mac.bytes, mac.size}));
      return up->boot_id;
    }
    ADD_FAILURE() << "no LinkProof on the UART after a LinkChallenge";
    return std::nullopt;
  }

  // Waits for qemu to exit by itself (the firmware's semihosting exit); false at the timeout.
  bool wait_exit(std::chrono::seconds timeout) { return qemu_.wait_for(timeout); }

  // Stops qemu (SIGTERM lets it flush the semihosting console) and returns that console.
  std::string stop_and_console() {
    qemu_.signal(SIGTERM);
    qemu_.wait_for(std::chrono::seconds(5));
    return read_text(log_);
  }

  int bad_frames = 0;

 private:
  fs::path log_;
  int listen_fd_ = -1;
  int conn_fd_ = -1;
  testing::ChildProcess qemu_;
  protocol::StaticFrameDecoder<protocol::kMaxUplinkBytes> decoder_;
  std::vector<uint8_t> pending_;
  size_t pos_ = 0;
};

}  // namespace tinyedge::qemu_test
